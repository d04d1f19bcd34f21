/**
 * The engine against the reference arithmetic (`computeKpi`, the contract's semantics written
 * plainly): random workloads of corrections, late older feeds, retractions, stocks, flows,
 * item sets, reference fall-backs, statistics, estimates, qualifiers and the 2025 reform are
 * applied in random batches; after every flush each published key must equal a recomputation
 * from the current observations, and every key with data must have been published.
 */
import {
  AdminUnits,
  type KpiComputation,
  type KpiKey,
  type Observation,
  SourceRegistry,
  boundarySetOf,
  mustParsePeriod,
} from '@app/catalogue';
import { GroupFlush, type KpiChange } from './evaluate.js';
import type { SliceInput } from '@app/contract';
import { GroupState } from './group-state.js';
import { GroupLayouts } from './layout.js';
import { ObservationSet, affectedKeys, computeKpi, kpiChanged } from './reference.js';

const units = AdminUnits.load('data/admin-units');
const layouts = new GroupLayouts(units);
const registry = new SourceRegistry();
const ctx = { units, registry };

function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

// Khánh Hòa (2025) = Khánh Hòa (56) + Ninh Thuận (58) of 2008: a merged province.
const GROUP = '56';
const pickUnits = () => {
  const districts = ['56', '58'].flatMap((p) =>
    units
      .all('2008')
      .filter((u) => u.level === 'district' && u.province === p)
      .slice(0, 2),
  );
  const communes2008 = districts.flatMap((d) =>
    units
      .all('2008')
      .filter((u) => u.level === 'commune' && u.parent === d.code)
      .slice(0, 3),
  );
  const communes2025 = units
    .all('2025')
    .filter((u) => u.level === 'commune' && u.province === GROUP)
    .slice(0, 4);
  return {
    a2008: [...communes2008.map((u) => u.code), ...districts.map((u) => u.code), '56', '58'],
    c2008: communes2008.map((u) => u.code),
    a2025: [...communes2025.map((u) => u.code), GROUP],
    c2025: communes2025.map((u) => u.code),
  };
};
const AREAS = pickUnits();

const OPERATOR_MEASURES = [
  'mobile_subscriptions',
  'mbb_subscriptions',
  'smartphone_subscriptions',
  'fbb_subscriptions',
  'ftth_household_subscriptions',
  'villages_mbb_covered',
  'villages_ftth_covered',
  'bts_sites',
  'telecom_revenue_vnd',
];
const GSO_MEASURES = [
  'population',
  'adult_population',
  'households',
  'villages_total',
  'adults_with_smartphone',
];
const SET_MEASURES = new Set(['villages_mbb_covered', 'villages_ftth_covered', 'bts_sites']);

interface Feed extends SliceInput {
  readonly observations: {
    area: string;
    measure: string;
    value?: number | null;
    items?: string[] | null;
    qualifier?: '>' | '~';
  }[];
}

function periodFor(r: () => number, source: string): string {
  const year = [2023, 2024, 2025, 2025, 2026][Math.floor(r() * 5)]!;
  const x = r();
  if (source === 'gso') return x < 0.7 ? String(year) : `${year}-H${1 + Math.floor(r() * 2)}`;
  if (source === 'vnnic') return `${year}-Q${1 + Math.floor(r() * 4)}`;
  if (x < 0.65) return `${year}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}`;
  if (x < 0.85) return `${year}-Q${1 + Math.floor(r() * 4)}`;
  if (x < 0.95) return `${year}-H${1 + Math.floor(r() * 2)}`;
  return String(year);
}

function workload(seed: number, size: number): Feed[] {
  const r = rng(seed);
  const feeds: Feed[] = [];
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  for (let i = 0; i < size; i++) {
    // A correction of an earlier feed, sent later or earlier than it.
    if (feeds.length > 3 && r() < 0.25) {
      const base = pick(feeds);
      const shift = (r() < 0.6 ? 1 : -1) * (1 + Math.floor(r() * 5)) * 86_400_000;
      feeds.push({
        ...base,
        feedId: `${base.feedId}-fix${i}`,
        sentAt: new Date(Date.parse(base.sentAt) + shift).toISOString(),
        observations: base.observations
          .filter(() => r() < 0.5)
          .map((o) =>
            r() < 0.25
              ? {
                  area: o.area,
                  measure: o.measure,
                  ...(SET_MEASURES.has(o.measure) ? { items: null } : { value: null }),
                }
              : SET_MEASURES.has(o.measure)
                ? { area: o.area, measure: o.measure, items: itemsFor(r, o.area) }
                : { area: o.area, measure: o.measure, value: Math.floor(r() * 500) },
          ),
      });
      continue;
    }
    const source = pick(['viettel', 'vnpt', 'mobifone', 'viettel', 'vnpt', 'gso', 'gso', 'vnnic']);
    const period = periodFor(r, source);
    const bs = boundarySetOf(mustParsePeriod(period));
    const areas =
      bs === '2008'
        ? r() < 0.8
          ? AREAS.c2008
          : AREAS.a2008
        : r() < 0.8
          ? AREAS.c2025
          : AREAS.a2025;
    const measures =
      source === 'gso'
        ? GSO_MEASURES
        : source === 'vnnic'
          ? ['mbb_download_mbps', 'fbb_download_mbps']
          : OPERATOR_MEASURES;
    const seen = new Set<string>();
    const observations: Feed['observations'] = [];
    const n = 1 + Math.floor(r() * 12);
    for (let j = 0; j < n; j++) {
      const area = pick(areas);
      const measure = pick(measures);
      if (seen.has(`${area}|${measure}`)) continue;
      seen.add(`${area}|${measure}`);
      observations.push(
        SET_MEASURES.has(measure)
          ? { area, measure, items: itemsFor(r, area) }
          : {
              area,
              measure,
              value:
                measure === 'population'
                  ? 1_000 + Math.floor(r() * 9_000)
                  : Math.floor(r() * 3_000),
              ...(r() < 0.08 ? { qualifier: r() < 0.5 ? ('>' as const) : ('~' as const) } : {}),
            },
      );
    }
    feeds.push({
      source,
      feedId: `${source}-${seed}-${i}`,
      sentAt: new Date(Date.UTC(2024, 0, 1) + Math.floor(r() * 400) * 86_400_000).toISOString(),
      period,
      status: r() < 0.1 ? 'estimate' : 'actual',
      observations,
    });
  }
  return feeds;
}

/** A few village or site codes from a small pool per area, so that sources overlap. */
function itemsFor(r: () => number, area: string): string[] {
  const pool = [1, 2, 3, 4].map((i) => `${area}-${i}`);
  const shared = ['X-1', 'X-2'];
  return [...pool, ...shared].filter(() => r() < 0.45);
}

/** The reference: last writer per identity, then the plain arithmetic. */
class Reference {
  private readonly winners = new Map<string, Observation & { retracted: boolean }>();
  readonly keys = new Map<string, KpiKey>();

  apply(f: Feed): void {
    for (const o of f.observations) {
      const id = `${f.source}|${o.measure}|${o.area}|${f.period}`;
      const w = this.winners.get(id);
      if (w && (w.sentAt > f.sentAt || (w.sentAt === f.sentAt && w.feedId >= f.feedId))) continue;
      const retracted = o.value === null || o.items === null;
      this.winners.set(id, {
        source: f.source,
        measure: o.measure,
        area: o.area,
        period: f.period,
        ...(o.items ? { items: o.items } : { value: o.value ?? 0 }),
        status: f.status,
        feedId: f.feedId,
        sentAt: f.sentAt,
        ...(o.qualifier ? { qualifier: o.qualifier } : {}),
        retracted,
      });
      for (const k of affectedKeys({ measure: o.measure, area: o.area, period: f.period }, units))
        this.keys.set(keyName(k), k);
    }
  }

  set(): ObservationSet {
    return new ObservationSet(
      [...this.winners.values()].filter((w) => !w.retracted),
      units,
    );
  }
}

/**
 * What a published key must agree on: always the five figures that make an event (value,
 * numerator, denominator, status, completeness); the rest of the event (inputs, note,
 * denominator period, year to date) as of the key's last event, since a feed that changes
 * none of the five (a new feedId with the same figures, an earlier quarter of a flow) makes
 * no event.
 */
function comparable(c: KpiComputation, wholeEvent: boolean) {
  return {
    value: c.value,
    numerator: c.numerator,
    denominator: c.denominator,
    status: c.status,
    completeness: c.completeness,
    ...(wholeEvent
      ? {
          denominatorPeriod: c.denominatorPeriod,
          inputs: c.inputs,
          note: c.note,
          yearToDate: c.yearToDate,
        }
      : {}),
  };
}

/** A key's name: (boundary set, code) names a unit; a 2025 code before the reform is re-based. */
const keyName = (k: { kpi: string; bs: string; area: string; period: string }): string =>
  `${k.kpi}|${k.bs}:${k.area}|${k.period}`;

function flush(state: GroupState, published: Map<string, KpiChange>): KpiChange[] {
  const f = new GroupFlush(state, { registry });
  const all: KpiChange[] = [];
  for (const chunk of f.chunks(7)) all.push(...chunk);
  f.commit();
  for (const c of all) {
    const key = keyName(c);
    const prev = published.get(key);
    expect({ key, revision: c.revision }).toEqual({ key, revision: (prev?.revision ?? 0) + 1 });
    // An event only for a change of figures, status or completeness.
    expect(kpiChanged(prev?.computation, c.computation)).toBe(true);
    published.set(key, c);
  }
  return all;
}

describe('the incremental engine, held to the reference arithmetic', () => {
  const seeds = Array.from({ length: 40 }, (_, i) => 1_000 + i * 7_919);

  it.each(seeds)('agrees with a recomputation after every flush (workload %i)', (seed) => {
    const feeds = workload(seed, 45);
    const r = rng(seed + 1);
    const state = new GroupState(layouts.get(GROUP));
    const reference = new Reference();
    const published = new Map<string, KpiChange>();
    let events = 0;
    for (let i = 0; i < feeds.length; i++) {
      state.apply(feeds[i]!, true);
      reference.apply(feeds[i]!);
      if (r() < 0.3 || i === feeds.length - 1) {
        const now = flush(state, published);
        events += now.length;
        const fresh = new Set(now.map(keyName));
        const set = reference.set();
        const wrong: unknown[] = [];
        for (const [name, key] of reference.keys) {
          const expected = computeKpi(key, set, ctx);
          const got = published.get(name);
          const whole = fresh.has(name);
          const a = got ? JSON.stringify(comparable(got.computation, whole)) : 'unpublished';
          const b = got || expected.hasData ? JSON.stringify(comparable(expected, whole)) : a;
          if (a !== b && wrong.length < 3) wrong.push({ name, engine: a, reference: b });
        }
        expect(wrong).toEqual([]);
        expect([...published.keys()].filter((name) => !reference.keys.has(name))).toEqual([]);
      }
    }
    expect(events).toBeGreaterThan(0);
  });

  it('publishes nothing when a feed repeats the figures under a new feedId', () => {
    const state = new GroupState(layouts.get(GROUP));
    const published = new Map<string, KpiChange>();
    const base: Feed = {
      source: 'viettel',
      feedId: 'a',
      sentAt: '2024-07-05T00:00:00.000Z',
      period: '2024-06',
      status: 'actual',
      observations: [{ area: AREAS.c2008[0]!, measure: 'mbb_subscriptions', value: 500 }],
    };
    state.apply(base, true);
    expect(flush(state, published).length).toBeGreaterThan(0);
    state.apply({ ...base, feedId: 'b', sentAt: '2024-07-06T00:00:00.000Z' }, true);
    expect(flush(state, published)).toEqual([]);
  });

  it('a reloaded state (no dirty marks) publishes nothing until something changes', () => {
    const feeds = workload(77, 30);
    const live = new GroupState(layouts.get(GROUP));
    const published = new Map<string, KpiChange>();
    for (const f of feeds) live.apply(f, true);
    flush(live, published);
    const reloaded = new GroupState(layouts.get(GROUP));
    for (const f of feeds) reloaded.apply(f, false);
    reloaded.loadPublished(
      [...published.values()].map((c) => ({
        kpi: c.kpi,
        bs: c.bs,
        area: c.area,
        period: c.period,
        numerator: c.computation.numerator,
        denominator: c.computation.denominator,
        status: c.computation.status,
        completeness: c.computation.completeness,
        revision: c.revision,
        ...(c.rebasedFrom ? { rebased: true } : {}),
      })),
    );
    expect(reloaded.isDirty).toBe(false);
    // Everything marked dirty again (as after a crash before the flush): still no event.
    // (A prefix keeps the order of feedIds among feeds sent at the same instant.)
    for (const f of feeds) reloaded.apply({ ...f, feedId: `z${f.feedId}` }, true);
    expect(flush(reloaded, new Map([...published]))).toEqual([]);
  });

  it('re-bases a 2025 commune formed from whole old communes, and not one that took part of a split one', () => {
    const communes = units.all('2025').filter((u) => u.level === 'commune' && u.province === GROUP);
    const exact = communes.find((u) => {
      const o = units.communeOrigin(u.code)!;
      return o.split.length === 0 && o.from.length >= 2;
    })!;
    const split = communes.find((u) => units.communeOrigin(u.code)!.split.length > 0)!;
    const olds = [exact, split].flatMap((u) => units.communeOrigin(u.code)!.from);
    const feeds: Feed[] = [
      {
        source: 'viettel',
        feedId: 'c-1',
        sentAt: '2024-07-05T00:00:00.000Z',
        period: '2024-06',
        status: 'actual',
        observations: olds.map((area, i) => ({
          area,
          measure: 'mbb_subscriptions',
          value: 100 + i,
        })),
      },
      {
        source: 'gso',
        feedId: 'c-2',
        sentAt: '2024-07-05T00:00:00.000Z',
        period: '2024',
        status: 'actual',
        observations: olds.map((area) => ({ area, measure: 'population', value: 1_000 })),
      },
    ];
    const state = new GroupState(layouts.get(GROUP));
    const reference = new Reference();
    for (const f of feeds) {
      state.apply(f, true);
      reference.apply(f);
    }
    const published = new Map<string, KpiChange>();
    flush(state, published);
    const set = reference.set();
    for (const u of [exact, split]) {
      const key: KpiKey = { kpi: 'MBB_SUB_P100', bs: '2025', area: u.code, period: '2024-06' };
      const got = published.get(keyName(key))!;
      expect(comparable(got.computation, true)).toEqual(
        comparable(computeKpi(key, set, ctx), true),
      );
      expect(got.rebasedFrom).toEqual(units.communeOrigin(u.code)!.from);
    }
    const exactFrom = units.communeOrigin(exact.code)!.from;
    const e = published.get(
      keyName({ kpi: 'MBB_SUB_P100', bs: '2025', area: exact.code, period: '2024-06' }),
    )!;
    expect(e.computation.denominator).toBe(1_000 * exactFrom.length);
    expect(e.computation.value).not.toBeNull();
    const s = published.get(
      keyName({ kpi: 'MBB_SUB_P100', bs: '2025', area: split.code, period: '2024-06' }),
    )!;
    expect(s.computation.value).toBeNull();
    expect(s.computation.note).toMatch(
      /^not re-based: formed in part from split commune\(s\) \d{5} /,
    );
  });
});
