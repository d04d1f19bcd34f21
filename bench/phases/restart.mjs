/**
 * (f) A restart: the aggregator stops and starts again with nothing in memory; one feed for
 * each group then makes the group load its state from PostgreSQL (replaying its slices).
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Partitioners } from 'kafkajs';
import {
  communesOf,
  fmt,
  kafka,
  logDir,
  peakRssMb,
  progress,
  provinces,
  run,
  say,
  sleep,
  started,
  startService,
  units,
  watchLatencies,
} from '../lib/harness.mjs';

export async function restartPhase() {
  const agg = started.services.find((s) => s.name.startsWith('aggregator'));
  const exited = new Promise((r) => agg.child.once('exit', r));
  agg.child.kill('SIGTERM');
  await exited;
  started.services.splice(started.services.indexOf(agg), 1);
  const tStart = Date.now();
  const instance = agg.name.slice('aggregator'.length);
  const logFile = join(logDir, `bench-aggregator${instance}.log`);
  const logStart = statSync(logFile).size;
  // At log level, for its "loaded group" lines (slices replayed, milliseconds).
  const child = await startService('aggregator', agg.port, instance, {
    env: { LOG_LEVEL: 'log' },
    append: true,
  });
  // Up: healthy and holding its partitions of the slices topic again.
  for (let i = 0; i < 600; i++) {
    const h = await fetch(`http://127.0.0.1:${agg.port}/health`).then(
      (r) => r.json(),
      () => undefined,
    );
    if (h?.checks?.consumer?.detail?.assignment?.['lgsp.feed-slices.v1']?.length) break;
    await sleep(100);
  }
  const upSeconds = (Date.now() - tStart) / 1000;
  const byGroup = new Map();
  for (const p of provinces) {
    const g = units.groupOf('2008', p.code);
    if (!byGroup.has(g)) byGroup.set(g, communesOf.get(p.code)[0]);
  }
  const { sentAt: pending, latencies: took, stop } = await watchLatencies(`restart-${run}`);
  const p2 = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await p2.connect();
  const t0r = Date.now();
  const sent = [...byGroup].map(([g, commune]) => ({
    schema: 'lgsp.feed.v1',
    feedId: `restart-${g}-${run}`,
    source: 'viettel',
    sentAt: '2024-12-31T00:00:00Z',
    period: '2024-12',
    observations: [{ area: commune, measure: 'mbb_subscriptions', value: 123_456 }],
  }));
  for (const f of sent) pending.set(f.feedId, t0r);
  await p2.send({
    topic: 'lgsp.feeds.v1',
    messages: sent.map((f) => ({ key: f.source, value: JSON.stringify(f) })),
  });
  for (let i = 0; i < 600 && pending.size > 0; i++) {
    await sleep(200);
    progress(`after the restart: ${took.length}/${sent.length} groups published`);
  }
  await p2.disconnect();
  await stop();
  took.sort((a, b) => a - b);
  const loads = [];
  for (const line of readFileSync(logFile, 'utf8').slice(logStart).split('\n')) {
    const m = /loaded group (\w+): (\d+) slice\(s\), (\d+) observation\(s\).* in (\d+) ms/.exec(
      line,
    );
    if (m)
      loads.push({
        group: m[1],
        slices: Number(m[2]),
        cells: Number(m[3]),
        ms: Number(m[4]),
      });
  }
  const out = {
    upSeconds,
    /** The restarted aggregator's peak RSS: it loaded every group. */
    peakRssMb: peakRssMb(child.pid),
    loads: {
      groups: loads.length,
      cells: loads.reduce((n, l) => n + l.cells, 0),
      ms: loads.reduce((n, l) => n + l.ms, 0),
      maxMs: Math.max(0, ...loads.map((l) => l.ms)),
    },
    groups: sent.length,
    published: took.length,
    p50ms: took[Math.floor((took.length - 1) / 2)] ?? null,
    maxMs: took.at(-1) ?? null,
  };
  say(
    `after a restart: up in ${upSeconds.toFixed(1)} s; one feed per group (${out.groups}) to its event, cold: p50 ${out.p50ms} ms, last ${out.maxMs} ms (${out.published}/${out.groups}); ${out.loads.groups} group loads rebuilt ${fmt(out.loads.cells)} cells in ${fmt(out.loads.ms)} ms (largest ${out.loads.maxMs} ms); peak RSS ${out.peakRssMb} MB`,
  );
  return out;
}
