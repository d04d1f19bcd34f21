/** The run's results: written to bench/results-<time>.json, and printed as one table. */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../scripts/infra.mjs';
import { AGGREGATORS, communeCount, fmt, FRESH_FEEDS, provinces } from '../lib/harness.mjs';

export function report(r) {
  const {
    feeds,
    observations,
    backfill: {
      tProduced,
      t0,
      timeline,
      backfillSeconds,
      cpu,
      cpuWindow,
      idle,
      steal,
      e2eRate,
      stateMb,
      rssBackfill,
    },
    rssIdle,
    limitRate,
    floor,
    fresh: { latencies, pct, benchPauses, slowSteps },
    restart,
    verify: { rss, size, ev, checked, wrong, examples, latest, topicWrong, missing },
  } = r;
  const result = {
    at: new Date().toISOString(),
    machine: `${cpus().length} cores, ${cpus()[0]?.model ?? ''}`.trim(),
    provinces: provinces.length,
    communes: communeCount,
    aggregators: AGGREGATORS,
    feeds: feeds.length,
    observations,
    backfill: {
      seconds: backfillSeconds,
      obsPerSecond: Math.round(e2eRate),
      producedSeconds: (tProduced - t0) / 1000,
      // Per process, and the machine's idle and steal over cpuWindowSeconds × its cores.
      cpuSeconds: cpu,
      cpuWindowSeconds: cpuWindow,
      timeline,
    },
    limit: { obsPerSecond: Math.round(limitRate) },
    ratio: e2eRate / limitRate,
    floor: { ...floor, obsPerSecond: Math.round(floor.obsPerSecond) },
    floorRatio: floor.obsPerSecond / limitRate,
    freshness: {
      measured: latencies.length,
      p50ms: pct(0.5),
      p90ms: pct(0.9),
      p99ms: pct(0.99),
      slowestMs: latencies.slice(-5),
      benchGcPausesMs: benchPauses,
      slowest: slowSteps,
    },
    restart,
    peakRssMb: { backfill: rssBackfill, end: rss },
    idleRssMb: rssIdle,
    stateMb,
    databaseMb: Math.round(Number(size.bytes) / 2 ** 20),
    kpiKeys: ev.keys,
    kpiEvents: ev.events,
    rebasedKeys: ev.rebased_keys,
    rebasedEvents: ev.rebased_events,
    flushes: ev.flushes,
    maxEventsPerKeyPerFlush: ev.per_key_per_flush,
    verification: {
      checked,
      wrong,
      examples,
      topicKeys: latest.size,
      topicWrong,
      topicExtraKeys: missing,
    },
  };
  const file = join(ROOT, 'bench', `results-${result.at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2));
  const ok = (b) => (b ? 'met' : 'NOT MET');
  const rssMax = Math.max(...Object.values(rss).filter((v) => v !== null));
  const rows = [
    ['', 'measured', 'target', ''],
    [
      'scale',
      `${provinces.length} provinces, ${fmt(communeCount)} communes, ${fmt(feeds.length)} feeds, ${fmt(observations)} observations, ${AGGREGATORS} aggregator(s)`,
      '',
      '',
    ],
    [
      '(a) end-to-end backfill',
      `${fmt(e2eRate)} obs/s (${backfillSeconds.toFixed(1)} s, first feed produced to last KPI event published)`,
      '≥ 50,000 obs/s',
      ok(e2eRate >= 50_000),
    ],
    ...(steal !== undefined
      ? [
          [
            '    the machine meanwhile',
            `${cpus().length} cores: ${steal} CPU s taken by the hypervisor (steal), ${idle} idle, of ${(cpus().length * cpuWindow).toFixed(0)}`,
            '',
            '',
          ],
        ]
      : []),
    ['(b) limit: bare consumer', `${fmt(limitRate)} obs/s (JSON.parse only)`, '', ''],
    [
      '    ratio a/b',
      e2eRate / limitRate >= 0.01 ? (e2eRate / limitRate).toFixed(3) : '<0.01',
      '≥ 0.5',
      ok(e2eRate / limitRate >= 0.5) +
        (floor.obsPerSecond / limitRate < 0.5 ? ' (out of reach here: floor/b < 0.5)' : ''),
    ],
    [
      "(b') floor: read + publish only",
      `${fmt(floor.obsPerSecond)} obs/s (${floor.seconds.toFixed(1)} s: parsing the feeds while publishing the backfill's ${fmt(floor.publish.events)} KPI events, nothing stored)`,
      '',
      '',
    ],
    [
      '    floor/b; a/floor',
      `${(floor.obsPerSecond / limitRate).toFixed(3)}; ${(e2eRate / floor.obsPerSecond).toFixed(3)}`,
      '',
      '',
    ],
    [
      '(c) freshness p50 / p99',
      `${pct(0.5)} / ${pct(0.99)} ms (${latencies.length}/${FRESH_FEEDS} feeds at 2/s)`,
      'p99 < 1,000 ms',
      ok(latencies.length === FRESH_FEEDS && pct(0.99) < 1_000),
    ],
    [
      '    after a restart',
      `up in ${restart.upSeconds.toFixed(1)} s; a feed per group (cold) to its event: p50 ${restart.p50ms} ms, last ${restart.maxMs} ms; loads ${fmt(restart.loads.ms)} ms; peak RSS ${restart.peakRssMb} MB`,
      '',
      restart.published === restart.groups ? '' : `${restart.groups - restart.published} missing`,
    ],
    [
      '(d) peak RSS',
      Object.entries(rss)
        .map(([k, v]) => `${k} ${v} MB`)
        .join(', '),
      '< 300 MB each',
      ok(rssMax < 300),
    ],
    [
      '    aggregator floor',
      Object.entries(stateMb)
        .map(
          ([k, mb]) =>
            `${k} ${rssIdle[k]} MB before any feed, state ${mb?.total ?? '?'} MB after the backfill`,
        )
        .join('; '),
      '',
      '',
    ],
    ['    database size', `${fmt(result.databaseMb)} MB`, '', ''],
    [
      '(e) KPI events / keys',
      `${fmt(ev.events)} events for ${fmt(ev.keys + ev.rebased_keys)} keys (${fmt(ev.rebased_events)} and ${fmt(ev.rebased_keys)} re-based) in ${fmt(ev.flushes)} batch windows (at most ${ev.per_key_per_flush} per key per window)`,
      '1 per changed key per window',
      ok(ev.per_key_per_flush === 1),
    ],
    [
      'verification',
      `${fmt(checked)} KPIs recomputed: ${wrong} differ; lgsp.kpi.v1: ${topicWrong} differ`,
      '0 differ',
      ok(wrong === 0 && topicWrong === 0),
    ],
  ];
  const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
  process.stdout.write(
    '\n' +
      rows
        .map((r) =>
          `${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2].padEnd(w[2])}  ${r[3]}`.trimEnd(),
        )
        .join('\n') +
      `\n\nwritten ${file}\n`,
  );
  return { wrong, topicWrong };
}
