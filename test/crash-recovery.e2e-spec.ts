/**
 * Promise 1 and 3 under fire: services are killed with SIGKILL while feeds stream in and are
 * restarted. Afterwards every KPI equals a recomputation from the accepted feeds, nothing is
 * counted twice, and every key's revisions run 1, 2, 3, ... without a gap.
 */
import {
  AdminUnits,
  affectedKeys,
  computeKpi,
  type KpiKey,
  type Observation,
  ObservationSet,
  SourceRegistry,
} from '@app/catalogue';
import {
  eventually,
  FeedSender,
  type HubProcesses,
  kafkaClient,
  startTestHub,
  TopicWatcher,
  uniqueSuffix,
} from '@app/testing';
import type { KpiEvent } from '@app/contract';
import pg from 'pg';

interface Feed {
  schema: string;
  feedId: string;
  source: string;
  sentAt: string;
  period: string;
  status: 'actual';
  observations: { area: string; measure: string; value?: number | null; items?: string[] }[];
}

const units = AdminUnits.load('data/admin-units');
const ctx = { units, registry: new SourceRegistry() };
const run = uniqueSuffix();
const OPERATORS = ['viettel', 'vnpt', 'mobifone', 'vietnamobile'];
// Điện Biên (11): 129 communes in the 2008-era list.
/** The KPIs these feeds make; other files of the run use other KPIs, areas and periods. */
const CHECKED_KPIS = ['MBB_SUB_P100', 'VIL_MBB_COV', 'BTS_SITE_SHARE'];
const communes = units.all('2008').filter((u) => u.level === 'commune' && u.province === '11');

/** A deterministic pseudo-random generator, so that a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

function buildFeeds(): { feeds: Feed[]; duplicates: Feed[] } {
  const rand = rng(20_241_122);
  const feeds: Feed[] = [];
  const at = (month: number, day: number) =>
    new Date(Date.UTC(2024, month, day, 1, 0, 0)).toISOString().replace('.000Z', '+00:00');
  feeds.push({
    schema: 'lgsp.feed.v1',
    feedId: `gso-11-2024-${run}`,
    source: 'gso',
    sentAt: at(0, 15),
    period: '2024',
    status: 'actual',
    observations: communes.flatMap((c) => [
      { area: c.code, measure: 'population', value: 3_000 + Math.floor(rand() * 9_000) },
      { area: c.code, measure: 'villages_total', value: 4 },
    ]),
  });
  for (const op of OPERATORS) {
    for (let m = 1; m <= 6; m++) {
      const period = `2024-${String(m).padStart(2, '0')}`;
      feeds.push({
        schema: 'lgsp.feed.v1',
        feedId: `${op}-11-${period}-${run}`,
        source: op,
        sentAt: at(m, 5),
        period,
        status: 'actual',
        observations: communes.flatMap((c) => [
          { area: c.code, measure: 'mbb_subscriptions', value: Math.floor(rand() * 5_000) },
          {
            area: c.code,
            measure: 'villages_mbb_covered',
            items: [1, 2, 3, 4].filter(() => rand() < 0.6).map((v) => `${c.code}-${v}`),
          },
          {
            area: c.code,
            measure: 'bts_sites',
            items: [1, 2, 3].filter(() => rand() < 0.5).map((s) => `BTS-${c.code}-${s}`),
          },
        ]),
      });
    }
  }
  const originals = feeds.slice(1);
  // Corrections sent later (they win) and older corrections that arrive late (they lose).
  for (let i = 0; i < 8; i++) {
    const base = originals[Math.floor(rand() * originals.length)]!;
    const shift = i % 2 === 0 ? 5 : -2; // days after or before the original
    const sentAt = new Date(Date.parse(base.sentAt) + shift * 86_400_000).toISOString();
    feeds.push({
      ...base,
      feedId: `${base.feedId}-fix${i}`,
      sentAt,
      observations: communes
        .filter(() => rand() < 0.3)
        .map((c) => ({
          area: c.code,
          measure: 'mbb_subscriptions',
          value: rand() < 0.1 ? null : Math.floor(rand() * 5_000),
        })),
    });
  }
  const duplicates = Array.from({ length: 10 }, () => feeds[Math.floor(rand() * feeds.length)]!);
  return { feeds, duplicates };
}

/** The recomputation: last writer per (source, measure, area, period), then the pure arithmetic. */
function recompute(feeds: Feed[]): Map<string, ReturnType<typeof computeKpi>> {
  const winners = new Map<string, Observation & { retracted: boolean }>();
  for (const f of feeds)
    for (const o of f.observations) {
      const id = `${f.source}|${o.measure}|${o.area}|${f.period}`;
      const sentAt = new Date(f.sentAt).toISOString();
      const w = winners.get(id);
      if (w && (w.sentAt > sentAt || (w.sentAt === sentAt && w.feedId > f.feedId))) continue;
      const retracted = o.value === null || (o.items === undefined && o.value === undefined);
      winners.set(id, {
        source: f.source,
        measure: o.measure,
        area: o.area,
        period: f.period,
        ...(o.items ? { items: o.items } : { value: o.value ?? 0 }),
        status: f.status,
        feedId: f.feedId,
        sentAt,
        retracted,
      });
    }
  const current = [...winners.values()].filter((w) => !w.retracted);
  const keys = new Map<string, KpiKey>();
  for (const w of winners.values())
    for (const k of affectedKeys(w, units)) keys.set(`${k.kpi}|${k.area}|${k.period}`, k);
  const set = new ObservationSet(current, units);
  const out = new Map<string, ReturnType<typeof computeKpi>>();
  for (const [name, k] of keys) {
    // Only the KPIs these feeds carry a numerator for; population alone makes no key.
    if (!CHECKED_KPIS.includes(k.kpi)) continue;
    const c = computeKpi(k, set, ctx);
    if (c.hasData) out.set(name, c);
  }
  return out;
}

describe('the hub killed with SIGKILL mid-stream', () => {
  const { feeds, duplicates } = buildFeeds();
  let hub: HubProcesses;
  let kpis: TopicWatcher;
  let sender: FeedSender;
  let db: string;

  beforeAll(async () => {
    ({ hub, databaseUrl: db } = await startTestHub('crash', 13_100));
    const kafka = kafkaClient();
    kpis = await new TopicWatcher(kafka, 'lgsp.kpi.v1').start();
    sender = await new FeedSender(kafka).start();
  });

  afterAll(async () => {
    await Promise.all([sender?.stop(), kpis?.stop(), hub?.stopAll()]);
  });

  it('ends with every KPI equal to a recomputation, nothing counted twice, no revision gap', async () => {
    const stream = [...feeds, ...duplicates];
    const killAggregatorAt = Math.floor(stream.length * 0.3);
    const killIngestAt = Math.floor(stream.length * 0.6);
    let aggregatorKilled = false;
    for (let i = 0; i < stream.length; i += 3) {
      await sender.send(stream.slice(i, i + 3));
      if (i >= killAggregatorAt && !aggregatorKilled) {
        // kill it while it works: some events are out, batches are in flight
        await eventually(() => (kpis.records.length > 0 ? true : undefined), {
          what: 'first events',
        });
        await hub.kill('aggregator');
        aggregatorKilled = true;
      }
      if (i >= killIngestAt && i < killIngestAt + 3) {
        await hub.kill('ingest');
        await hub.start('aggregator');
      }
    }
    await hub.start('ingest');

    const expected = recompute(feeds);
    expect(expected.size).toBeGreaterThan(1_000);
    const mine = [...expected.keys()];

    // Wait until the API agrees with the recomputation on every key.
    const client = new pg.Client({ connectionString: db });
    await client.connect();
    try {
      const mismatches = async () => {
        const { rows } = await client.query<KpiEvent>(
          'SELECT kpi, area, period, value, numerator, denominator, status, revision FROM kpi_value',
        );
        const stored = new Map(rows.map((r) => [`${r.kpi}|${r.area}|${r.period}`, r]));
        return mine.filter((k) => {
          const e = expected.get(k)!;
          const s = stored.get(k);
          return (
            !s ||
            s.numerator !== e.numerator ||
            s.denominator !== e.denominator ||
            s.value !== e.value ||
            s.status !== e.status
          );
        });
      };
      await eventually(async () => ((await mismatches()).length === 0 ? true : undefined), {
        timeoutMs: 180_000,
        intervalMs: 1_000,
        what: 'every KPI to equal the recomputation',
      }).catch(async (e: Error) => {
        const bad = await mismatches();
        throw new Error(
          `${e.message}; ${bad.length} keys differ, e.g. ${bad.slice(0, 5).join(', ')}`,
        );
      });

      // Each feed counted once: one processed marker per distinct feed, duplicates ignored.
      const { rows: counted } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM feed WHERE feed_id LIKE $1`,
        [`%${run}%`],
      );
      expect(Number(counted[0]!.n)).toBe(feeds.length);

      // The compacted topic converges on the same values, revisions 1..n without a gap.
      await eventually(
        async () => {
          const { rows } = await client.query<{ n: string }>(
            `SELECT count(*) AS n FROM kpi_change
              WHERE id > (SELECT last_id FROM relay_position WHERE topic = 'lgsp.kpi.v1')`,
          );
          return rows[0]!.n === '0' ? true : undefined;
        },
        { what: 'the outbox to drain' },
      );
      const { rows: all } = await client.query<KpiEvent>(
        'SELECT kpi, area, period, value, revision FROM kpi_value',
      );
      const stored = all.filter((s) => expected.has(`${s.kpi}|${s.area}|${s.period}`));
      expect(stored).toHaveLength(expected.size);
      await eventually(
        () => {
          const latest = kpis.latestByKey<KpiEvent>();
          return stored.every(
            (s) => latest.get(`${s.kpi}|${s.area}|${s.period}`)?.revision === s.revision,
          )
            ? true
            : undefined;
        },
        { what: 'the topic to carry the latest revision of every key' },
      );
      const latest = kpis.latestByKey<KpiEvent>();
      for (const s of stored) {
        const key = `${s.kpi}|${s.area}|${s.period}`;
        expect(latest.get(key)!.value).toBe(s.value);
        const revisions = new Set(kpis.byKey(key).map((r) => r.json<KpiEvent>().revision));
        expect([...revisions].sort((a, b) => a - b)).toEqual(
          Array.from({ length: s.revision }, (_, i) => i + 1),
        );
      }
    } finally {
      await client.end();
    }
  });
});
