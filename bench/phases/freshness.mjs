/**
 * (c) Freshness at a steady low load: 2 feeds/s for 50 s, a new value for one commune each,
 * produced to KPI event read.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import {
  communesOf,
  FRESH_FEEDS,
  progress,
  provinces,
  run,
  say,
  sleep,
  watchLatencies,
} from '../lib/harness.mjs';

export async function freshnessPhase({ producer, db }) {
  // 100 feeds, so that the p99 (nearest rank) is the second largest latency, not the largest.
  const { sentAt, latencies, steps, stop: stopFresh } = await watchLatencies(`fresh-${run}`);
  // The bench's own pauses (its heap holds every generated feed) delay when it sees an event:
  // counted, so that a slow latency can be told from a slow hub.
  const benchPauses = [];
  const gcWatch = new PerformanceObserver((l) =>
    l.getEntries().forEach((e) => e.duration >= 50 && benchPauses.push(Math.round(e.duration))),
  );
  gcWatch.observe({ entryTypes: ['gc'] });
  const steady = provinces.flatMap((p) => communesOf.get(p.code).slice(0, 5));
  const steadyFeeds = [];
  for (let i = 0; i < FRESH_FEEDS; i++) {
    const f = {
      schema: 'lgsp.feed.v1',
      feedId: `fresh-${i}-${run}`,
      source: 'viettel',
      sentAt: `2024-12-30T00:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`,
      period: '2024-12',
      observations: [
        { area: steady[i % steady.length], measure: 'mbb_subscriptions', value: 100_000 + i },
      ],
    };
    steadyFeeds.push(f);
    sentAt.set(f.feedId, Date.now());
    await producer.send({
      topic: 'lgsp.feeds.v1',
      messages: [{ key: 'viettel', value: JSON.stringify(f) }],
    });
    progress(`freshness: ${i + 1}/${FRESH_FEEDS} feeds`);
    await sleep(500);
  }
  for (let i = 0; i < 50 && sentAt.size > 0; i++) await sleep(200);
  await stopFresh();
  await producer.disconnect();
  latencies.sort((a, b) => a - b);
  const pct = (q) =>
    latencies.length
      ? latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)]
      : null;
  gcWatch.disconnect();
  // Where the slowest feeds waited: until the aggregator stored their slice (the ingest and
  // the slices topic), until their event was computed (the debounce and the flush), until the
  // relay published it, and until the bench read it.
  const slowest = [...steps].sort((a, b) => b[1].total - a[1].total).slice(0, 3);
  const { rows: appliedRows } = await db.query(
    'SELECT feed_id, applied_at FROM feed_slice WHERE feed_id = ANY($1::text[])',
    [slowest.map(([id]) => id)],
  );
  const appliedAt = new Map(appliedRows.map((r) => [r.feed_id, new Date(r.applied_at).getTime()]));
  const slowSteps = slowest.map(([id, { produced, ...x }]) => ({
    feedId: id,
    ...x,
    applied: (appliedAt.get(id) ?? NaN) - produced,
  }));
  say(
    `freshness: ${latencies.length}/${FRESH_FEEDS} measured, p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms (slowest: ${latencies.slice(-5).join(', ')} ms); ` +
      `the bench's own GC pauses of 50 ms or more meanwhile: ${benchPauses.length ? benchPauses.join(', ') + ' ms' : 'none'}; ` +
      `the slowest, ms after produced: ${slowSteps.map((x) => `slice stored ${x.applied}, event computed ${x.computed}, published ${x.published}, read ${x.total}`).join('; ')}`,
  );
  return { latencies, pct, benchPauses, slowSteps, steadyFeeds };
}
