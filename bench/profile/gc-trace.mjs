#!/usr/bin/env node
/**
 * Sums up V8's `--trace-gc` lines of a service's log, per thread (isolate): how many
 * scavenges and major collections (mark-compact), the time they took, the largest live heap
 * a major collection left, and the most heap the thread had committed. The committed heap is
 * what RSS pays; V8 lets it grow to a few times the live heap before it collects.
 *
 *   npm run bench -- --aggregator-node "--trace-gc"
 *   node bench/profile/gc-trace.mjs .data/test/logs/bench-aggregator.log [until-ms]
 *
 * `until-ms` counts from each thread's start (as the trace does): 120000 keeps the first two
 * minutes, about the backfill. A log a restart appended to holds each process in turn; a
 * process's threads are named by first appearance, the main thread first.
 */
import { readFileSync } from 'node:fs';

const [file, until = 'Infinity'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/profile/gc-trace.mjs <service log> [until-ms]');
  process.exit(2);
}
// [pid:isolate]   t ms: Scavenge 40.1 (52.3) -> 30.2 (53.1) MB, 3.1 / 0.0 ms  (+ 2.0 ms in ...
const LINE =
  /^\[(\d+):(0x[0-9a-f]+)\]\s+(\d+) ms: (Scavenge|Mark-Compact|Minor Mark-Sweep)(?: \([a-z ]+\))? ([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB, ([\d.]+) \/ [\d.]+ ms(?:\s+\(\+ ([\d.]+) ms)?/;
const threads = new Map();
for (const line of readFileSync(file, 'utf8').split('\n')) {
  const m = LINE.exec(line);
  if (!m || Number(m[3]) > Number(until)) continue;
  const [, pid, isolate, , kind, , committedBefore, after, committedAfter, ms, incremental] = m;
  let t = threads.get(`${pid}:${isolate}`);
  if (!t) {
    t = { pid, minor: 0, minorMs: 0, major: 0, majorMs: 0, liveMb: 0, committedMb: 0 };
    threads.set(`${pid}:${isolate}`, t);
  }
  if (kind === 'Mark-Compact') {
    t.major++;
    t.majorMs += Number(ms) + Number(incremental ?? 0);
    t.liveMb = Math.max(t.liveMb, Number(after));
  } else {
    t.minor++;
    t.minorMs += Number(ms);
  }
  t.committedMb = Math.max(t.committedMb, Number(committedBefore), Number(committedAfter));
}
if (threads.size === 0) {
  console.error(`no --trace-gc lines in ${file}: start the service with --trace-gc`);
  process.exit(1);
}
const seen = new Map();
const rows = [...threads.values()].map((t) => {
  const n = seen.get(t.pid) ?? 0;
  seen.set(t.pid, n + 1);
  return { thread: `${t.pid} ${n === 0 ? 'main' : `worker ${n}`}`, ...t };
});
console.table(
  rows.map((t) => ({
    thread: t.thread,
    scavenges: t.minor,
    'scavenge s': (t.minorMs / 1000).toFixed(1),
    'major GCs': t.major,
    'major s': (t.majorMs / 1000).toFixed(1),
    'live MB (max after a major GC)': t.liveMb.toFixed(0),
    'committed MB (max)': t.committedMb.toFixed(0),
  })),
);
