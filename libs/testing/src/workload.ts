/**
 * A commune-level workload for the e2e tier and its recomputation: the feeds operators and the
 * statistics office would send for some provinces and months, with corrections that win, late
 * corrections that lose and resends; and what every KPI must be, from the reference arithmetic
 * in `libs/aggregation/src/reference.ts` (last writer per source, measure, area and period;
 * then `computeKpi`).
 */
import {
  type AdminUnits,
  type KpiKey,
  type Observation,
  SourceRegistry,
  boundarySetOf,
  mustParsePeriod,
} from '@app/catalogue';
import { affectedKeys, computeKpi, ObservationSet } from '@app/aggregation/src/reference.js';
import { type KpiEvent, kpiEventKey } from '@app/contract';
import type pg from 'pg';
import { eventually } from './eventually.js';
import type { TopicWatcher } from './kafka.js';

export interface TestFeed {
  schema: string;
  feedId: string;
  source: string;
  sentAt: string;
  period: string;
  status: 'actual' | 'estimate' | 'provisional';
  observations: { area: string; measure: string; value?: number | null; items?: string[] }[];
}

export type ExpectedKpis = Map<string, ReturnType<typeof computeKpi>>;

/** The KPIs a commune workload makes; population alone makes no key. */
/**
 * A feed of one test run: its id suffixed with the run's, because e2e files share the broker
 * and a feed id is a source's own once and for all.
 */
export function testFeed(
  run: string,
  source: string,
  id: string,
  sentAt: string,
  period: string,
  observations: TestFeed['observations'],
  status: TestFeed['status'] = 'actual',
): TestFeed {
  return {
    schema: 'lgsp.feed.v1',
    feedId: `${id}-${run}`,
    source,
    sentAt,
    period,
    status,
    observations,
  };
}

/** `testFeed`'s arguments after the run. */
export type TestFeedArgs = Parameters<typeof testFeed> extends [string, ...infer R] ? R : never;

export const WORKLOAD_KPIS = ['MBB_SUB_P100', 'VIL_MBB_COV', 'BTS_SITE_SHARE'] as const;

/** A deterministic pseudo-random generator, so that a failure can be replayed. */
export function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

export interface WorkloadOptions {
  /** 2008-era province codes whose communes report. */
  readonly provinces: readonly string[];
  readonly operators: readonly string[];
  /** The year reported (a file watching every event of its keys also starts its watcher at `now`). */
  readonly year: number;
  /** Months of the year, from January. */
  readonly months: number;
  /** Makes feed ids unique to one test run. */
  readonly run: string;
  readonly seed: number;
  /** Correction feeds: half sent later (they win), half older ones arriving late (they lose). */
  readonly corrections: number;
  /** Feeds sent a second time. */
  readonly resends: number;
}

/**
 * One statistics-office feed per province (population, villages) and, per operator, province
 * and month, subscriptions, covered villages (item sets) and BTS sites (item sets).
 */
export function communeWorkload(
  units: AdminUnits,
  o: WorkloadOptions,
): { feeds: TestFeed[]; resends: TestFeed[] } {
  const rand = rng(o.seed);
  const at = (month: number, day: number) =>
    new Date(Date.UTC(o.year, month, day, 1, 0, 0)).toISOString().replace('.000Z', '+00:00');
  const feed = (source: string, feedId: string, sentAt: string, period: string) =>
    ({ schema: 'lgsp.feed.v1', feedId, source, sentAt, period, status: 'actual' }) as const;
  const feeds: TestFeed[] = [];
  const originals: TestFeed[] = [];
  for (const province of o.provinces) {
    const communes = units
      .all('2008')
      .filter((u) => u.level === 'commune' && u.province === province);
    feeds.push({
      ...feed('gso', `gso-${province}-${o.year}-${o.run}`, at(0, 15), String(o.year)),
      observations: communes.flatMap((c) => [
        { area: c.code, measure: 'population', value: 3_000 + Math.floor(rand() * 9_000) },
        { area: c.code, measure: 'villages_total', value: 4 },
      ]),
    });
    for (const op of o.operators)
      for (let m = 1; m <= o.months; m++) {
        const period = `${o.year}-${String(m).padStart(2, '0')}`;
        const f: TestFeed = {
          ...feed(op, `${op}-${province}-${period}-${o.run}`, at(m, 5), period),
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
        };
        feeds.push(f);
        originals.push(f);
      }
  }
  for (let i = 0; i < o.corrections; i++) {
    const base = originals[Math.floor(rand() * originals.length)]!;
    const shift = i % 2 === 0 ? 5 : -2; // days after or before the original
    feeds.push({
      ...base,
      feedId: `${base.feedId}-fix${i}`,
      sentAt: new Date(Date.parse(base.sentAt) + shift * 86_400_000).toISOString(),
      observations: base.observations
        .filter((x) => x.measure === 'mbb_subscriptions' && rand() < 0.3)
        .map((x) => ({
          area: x.area,
          measure: x.measure,
          value: rand() < 0.1 ? null : Math.floor(rand() * 5_000),
        })),
    });
  }
  const resends = Array.from(
    { length: o.resends },
    () => feeds[Math.floor(rand() * feeds.length)]!,
  );
  return { feeds, resends };
}

/** The current observations after `feeds` (in any order, each once): the later report wins. */
function currentObservations(feeds: readonly TestFeed[]): {
  current: Observation[];
  all: Observation[];
} {
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
  const all = [...winners.values()];
  return { current: all.filter((w) => !w.retracted), all };
}

/**
 * What every workload KPI of `lgsp.kpi.v1` must be after `feeds` (in any order, each once)
 * were accepted. (Re-based history, whose keys reuse old codes, is `recomputeKeys`'s.)
 */
export function recomputeKpis(feeds: readonly TestFeed[], units: AdminUnits): ExpectedKpis {
  const { current, all } = currentObservations(feeds);
  const keys = new Map<string, KpiKey>();
  for (const w of all)
    for (const k of affectedKeys(w, units))
      if (k.bs === boundarySetOf(mustParsePeriod(k.period))) keys.set(kpiEventKey(k), k);
  const ctx = { units, registry: new SourceRegistry() };
  const set = new ObservationSet(current, units);
  const out: ExpectedKpis = new Map();
  for (const [name, k] of keys) {
    if (!(WORKLOAD_KPIS as readonly string[]).includes(k.kpi)) continue;
    const c = computeKpi(k, set, ctx);
    if (c.hasData) out.set(name, c);
  }
  return out;
}

/**
 * These keys recomputed from `feeds` with the reference arithmetic: a key of the 2025 lists
 * for a period before the reform is a 2025 province's re-based history.
 */
export function recomputeKeys(
  feeds: readonly TestFeed[],
  units: AdminUnits,
  keys: readonly KpiKey[],
): ReturnType<typeof computeKpi>[] {
  const set = new ObservationSet(currentObservations(feeds).current, units);
  const ctx = { units, registry: new SourceRegistry() };
  return keys.map((k) => computeKpi(k, set, ctx));
}

/** The expected keys whose stored KPI (the `kpi_value` view) is missing or differs. */
export async function kpiMismatches(client: pg.Client, expected: ExpectedKpis): Promise<string[]> {
  const { rows } = await client.query<KpiEvent>(
    'SELECT kpi, area, period, value, numerator, denominator, status, revision FROM kpi_value',
  );
  const stored = new Map(rows.map((r) => [kpiEventKey(r), r]));
  return [...expected].flatMap(([k, e]) => {
    const s = stored.get(k);
    const same =
      s &&
      s.numerator === e.numerator &&
      s.denominator === e.denominator &&
      s.value === e.value &&
      s.status === e.status;
    return same ? [] : [k];
  });
}

/** Outbox rows the relay has not published yet. */
export async function relayBacklog(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ n: string }>(
    `SELECT count(*) AS n FROM kpi_change
      WHERE id > (SELECT last_id FROM relay_position WHERE topic = 'lgsp.kpi.v1')`,
  );
  return Number(rows[0]!.n);
}

/**
 * Keys of `expected` whose events on the topic are not revisions 1..n of the stored latest
 * revision n with its value: a gap, a repeat with another value, or a stale latest event.
 */
export async function topicDisagreements(
  client: pg.Client,
  kpis: TopicWatcher,
  expected: ExpectedKpis,
): Promise<string[]> {
  const { rows } = await client.query<KpiEvent>(
    'SELECT kpi, area, period, value, revision FROM kpi_value',
  );
  const latest = kpis.latestByKey<KpiEvent>();
  const byKey = kpis.groupedByKey();
  const bad: string[] = [];
  for (const s of rows) {
    const key = kpiEventKey(s);
    if (!expected.has(key)) continue;
    const l = latest.get(key);
    const revisions = [...new Set((byKey.get(key) ?? []).map((r) => r.json<KpiEvent>().revision))];
    const gapless =
      revisions.length === s.revision && revisions.every((r) => r >= 1 && r <= s.revision);
    if (!l || l.revision !== s.revision || l.value !== s.value || !gapless) bad.push(key);
  }
  return bad;
}

/** Distinct feeds the hub stored whose id contains `run`: each accepted feed counts once. */
export async function feedsStored(client: pg.Client, run: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>(
    'SELECT count(*) AS n FROM feed WHERE feed_id LIKE $1',
    [`%${run}%`],
  );
  return Number(rows[0]!.n);
}

/**
 * Waits until every expected KPI is stored with the recomputed figures, the relay has
 * published every change, and the topic carries revisions 1..n of every key with the stored
 * latest value; fails naming some keys that are not there yet.
 */
export async function untilHubAgrees(
  client: pg.Client,
  kpis: TopicWatcher,
  expected: ExpectedKpis,
): Promise<void> {
  const until = async (what: string, bad: () => Promise<string[]>, timeoutMs = 180_000) => {
    let last: string[] = [];
    await eventually(async () => ((last = await bad()).length === 0 ? true : undefined), {
      timeoutMs,
      intervalMs: 1_000,
      what,
    }).catch((e: Error) => {
      throw new Error(
        `${e.message}; ${last.length} keys do not, e.g. ${last.slice(0, 5).join(', ')}`,
      );
    });
  };
  await until('every KPI to equal the recomputation', () => kpiMismatches(client, expected));
  await eventually(async () => ((await relayBacklog(client)) === 0 ? true : undefined), {
    timeoutMs: 60_000,
    what: 'the relay to publish every change',
  });
  await until(
    'the topic to carry revisions 1..n of every key, the latest equal to the API',
    () => topicDisagreements(client, kpis, expected),
    60_000,
  );
}
