/**
 * (d) memory and the database's size, (e) events against keys and batch windows; then every
 * KPI in the database against the reference arithmetic, and the latest event per key on
 * lgsp.kpi.v1 against the database. Collects the backfill's events for the floor.
 */
import { EventPack } from '../floor.mjs';
import {
  args,
  cat,
  fmt,
  fromRunStart,
  kafka,
  peakRssMb,
  progress,
  reference,
  run,
  say,
  started,
  startOf,
  topicEnds,
  units,
} from '../lib/harness.mjs';

export async function verifyPhase({ db, feeds, steadyFeeds, runStart, t0, backfillEnds }) {
  const rss = Object.fromEntries(started.services.map((s) => [s.name, peakRssMb(s.child.pid)]));
  const {
    rows: [size],
  } = await db.query('SELECT pg_database_size(current_database())::bigint AS bytes');
  const {
    rows: [ev],
  } = await db.query(
    `SELECT (SELECT count(*)::int FROM kpi_value) AS keys,
            (SELECT count(*)::int FROM kpi_rebased_value) AS rebased_keys,
            (SELECT count(*)::int FROM kpi_change) AS events,
            (SELECT count(*)::int FROM kpi_change WHERE rebased) AS rebased_events,
            (SELECT count(DISTINCT flush_id)::int FROM kpi_change) AS flushes,
            (SELECT coalesce(max(n), 0)::int FROM (SELECT count(*) AS n FROM kpi_change
               GROUP BY flush_id, kpi, area, period, rebased) x) AS per_key_per_flush`,
  );

  // verification 1: every KPI in the database against a recomputation from the generated data
  say('verifying every KPI against a recomputation with the reference arithmetic...');
  const byProvince = new Map();
  for (const f of [...feeds, ...steadyFeeds])
    for (const o of f.observations) {
      const prov = units.get('2008', o.area).province;
      if (!byProvince.has(prov)) byProvince.set(prov, new Map());
      const id = `${f.source}|${o.measure}|${o.area}|${f.period}`;
      const s = new Date(f.sentAt).toISOString();
      const w = byProvince.get(prov).get(id);
      if (w && (w.sentAt > s || (w.sentAt === s && w.feedId > f.feedId))) continue;
      byProvince.get(prov).set(id, {
        source: f.source,
        measure: o.measure,
        area: o.area,
        period: f.period,
        ...(o.items ? { items: o.items } : { value: o.value }),
        status: 'actual',
        feedId: f.feedId,
        sentAt: s,
      });
    }
  const ctx = { units, registry: new cat.SourceRegistry() };
  let checked = 0;
  let wrong = 0;
  const examples = [];
  const { rows: stored } = await db.query(
    'SELECT kpi, bs, area, period, value, numerator, denominator, status, revision FROM kpi_value',
  );
  const byProv = new Map();
  for (const r of stored) {
    const prov = units.get(r.bs, r.area).province;
    if (!byProv.has(prov)) byProv.set(prov, []);
    byProv.get(prov).push(r);
  }
  for (const [prov, rows] of byProv) {
    const set = new reference.ObservationSet([...(byProvince.get(prov)?.values() ?? [])], units);
    for (const r of rows) {
      const c = reference.computeKpi(
        { kpi: r.kpi, bs: r.bs, area: r.area, period: r.period },
        set,
        ctx,
      );
      checked++;
      if (
        c.value !== r.value ||
        c.numerator !== r.numerator ||
        c.denominator !== r.denominator ||
        c.status !== r.status
      ) {
        wrong++;
        if (examples.length < 5)
          examples.push(`${r.kpi}|${r.area}|${r.period}: db ${r.value} vs ${c.value}`);
      }
      if (checked % 50_000 === 0) progress(`verified ${fmt(checked)}/${fmt(stored.length)}`);
    }
    byProvince.delete(prov);
  }
  // Keys the recomputation has but the hub never published.
  let missing = 0;
  say(
    `verified ${fmt(checked)} KPIs: ${wrong} differ${examples.length ? ` (${examples.join('; ')})` : ''}`,
  );

  // verification 2: the latest event per key on lgsp.kpi.v1 equals the database
  say('reading lgsp.kpi.v1 to compare the latest event per key with the database...');
  const latest = new Map();
  const topicReader = kafka.consumer({ groupId: `verify-${run}`, maxBytesPerPartition: 8 << 20 });
  await fromRunStart(`verify-${run}`, 'lgsp.kpi.v1', runStart);
  await topicReader.connect();
  await topicReader.subscribe({ topic: 'lgsp.kpi.v1', fromBeginning: true });
  const ends = (await topicEnds(['lgsp.kpi.v1']))['lgsp.kpi.v1'];
  const reached = new Map();
  const began = new Date(t0 - 60_000).toISOString();
  // The backfill's events, as published, for the floor (b'): one pack per producer thread.
  const packs = Array.from({ length: Number(args['floor-writers'] ?? 2) }, () => new EventPack());
  const backfillEnd = (partition) => startOf(backfillEnds['lgsp.kpi.v1'], partition);
  await new Promise((resolve) => {
    const check = () => {
      if (
        ends.every(
          ({ partition, offset }) =>
            offset === startOf(runStart['lgsp.kpi.v1'], partition) ||
            (reached.get(partition) ?? -1) >= offset - 1,
        )
      )
        resolve();
    };
    check();
    void topicReader.run({
      eachBatch: async ({ batch }) => {
        const end = backfillEnd(batch.partition);
        for (const m of batch.messages) {
          if (Number(m.offset) < end) packs[batch.partition % packs.length].add(m.key, m.value);
          const e = JSON.parse(m.value.toString());
          if (e.computedAt < began) continue;
          const k = m.key.toString();
          const prev = latest.get(k);
          if (!prev || prev.revision < e.revision)
            latest.set(k, { revision: e.revision, value: e.value });
        }
        reached.set(batch.partition, Number(batch.lastOffset()));
        progress(`read ${fmt(latest.size)} keys from lgsp.kpi.v1`);
        check();
      },
    });
  });
  await topicReader.disconnect();
  let topicWrong = 0;
  const topicExamples = [];
  for (const r of stored) {
    const e = latest.get(`${r.kpi}|${r.area}|${r.period}`);
    if (!e || e.revision !== r.revision || e.value !== r.value) {
      topicWrong++;
      if (topicExamples.length < 3) topicExamples.push(`${r.kpi}|${r.area}|${r.period}`);
    }
  }
  missing = latest.size - stored.length;
  say(
    `lgsp.kpi.v1: ${fmt(latest.size)} keys, ${topicWrong} differ from the database${topicExamples.length ? ` (${topicExamples.join(', ')})` : ''}`,
  );
  await db.end();
  return { rss, size, ev, checked, wrong, examples, latest, topicWrong, missing, packs };
}
