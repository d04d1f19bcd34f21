#!/usr/bin/env node
/**
 * The ingest's CPU per observation without I/O: the bench's backfill feeds (bench/workload.mjs)
 * as raw records, each validated (`validateFeed`), hashed for the audit log, cut into slices
 * and the slices serialised, as `NormaliseFeedsHandler` does between its database and Kafka
 * round trips. Prints µs per observation and the heap's collections; repeat with
 * `--cpu-prof` to see where it goes. No Kafka or PostgreSQL needed.
 *
 *   npm run build && node bench/profile/ingest-cpu.mjs [provinces=63] [rounds=3]
 */
import { createHash } from 'node:crypto';
import { PerformanceObserver } from 'node:perf_hooks';
import { AdminUnits, SourceRegistry } from '../../dist/libs/catalogue/src/index.js';
import { feedRules, sliceFeed, validateFeed } from '../../dist/libs/contract/src/index.js';
import { backfill } from '../workload.mjs';

const provinces = Number(process.argv[2] ?? 63);
const rounds = Number(process.argv[3] ?? 3);
const units = AdminUnits.load(new URL('../../data/admin-units', import.meta.url).pathname);
const records = backfill(units, provinces, 'cpu')
  .buildFeeds()
  .map((f) => ({ key: f.source, value: Buffer.from(JSON.stringify(f)), n: f.observations.length }));
const observations = records.reduce((n, r) => n + r.n, 0);
const rules = feedRules(units, new SourceRegistry());
let gcMs = 0;
new PerformanceObserver((l) => l.getEntries().forEach((e) => (gcMs += e.duration))).observe({
  entryTypes: ['gc'],
});

for (let round = 1; round <= rounds; round++) {
  gcMs = 0;
  const cpu0 = process.cpuUsage();
  let slices = 0;
  for (const [i, r] of records.entries()) {
    const verdict = validateFeed(r.value, rules, { channel: 'kafka', key: r.key, offset: `${i}` });
    if (!verdict.ok) throw new Error(JSON.stringify(verdict.errors.slice(0, 3)));
    createHash('sha256').update(r.value).digest('hex');
    for (const slice of sliceFeed(verdict.feed, units)) slices += JSON.stringify(slice).length;
  }
  await new Promise((resolve) => setImmediate(resolve));
  const cpu = process.cpuUsage(cpu0);
  const us = cpu.user + cpu.system;
  console.log(
    `round ${round}: ${records.length.toLocaleString('en-US')} feeds, ${observations.toLocaleString('en-US')} observations: ` +
      `${(us / 1e6).toFixed(2)} CPU s, ${(us / observations).toFixed(2)} µs per observation ` +
      `(garbage collection ${(gcMs / 1e3).toFixed(2)} s; ${(slices / 2 ** 20).toFixed(0)} MB of slices)`,
  );
}
