/**
 * The reference arithmetic: how current observations become a KPI value for one area and
 * period, written plainly from the contract, key by key. The engine (evaluate.ts) computes
 * the same densely and incrementally; the differential test, the e2e recomputation and the
 * benchmark's check hold it to this. Not used by the services. Pure: plain data in, plain
 * data out.
 *
 * Resolution of one measure for one source at (area A, period P), `resolve`:
 *  1. the source's direct report for (A, P) stands;
 *  2. else, if the source reported A itself for sub-periods of P: roll up over time
 *     (stock: the latest sub-period with a value; flow: the sum of sub-periods);
 *  3. else roll up over areas: the sum (or union) of the sub-areas' values for P.
 * The year 2025 spans the 2025-07-01 reform: it rolls up over time first, H1 in the 2008
 * units (old provinces roll into the new one), H2 in the 2025 units.
 * Reference measures (population, ...) take the period's own value, else the nearest enclosing
 * period's, else the latest earlier year's; statistics are only ever taken as reported.
 */
import {
  type AdminUnits,
  type AreaKey,
  type BoundarySet,
  type InputRef,
  KPIS,
  type KpiComputation,
  type KpiDef,
  type KpiKey,
  MEASURES,
  type Observation,
  type Operand,
  type Period,
  type SourceRegistry,
  areaKey,
  boundarySetOf,
  childPeriods,
  contains,
  monthSpan,
  mustParsePeriod,
  selfAndAncestors,
} from '@app/catalogue';
import { kpiNote, splitNote } from './notes.js';

type Amount = number | ReadonlySet<string>;

interface Resolved {
  readonly amount: Amount;
  readonly obs: readonly Observation[];
  /** For flows: the reports tile the whole period. */
  readonly covered: boolean;
}

/** One source's observations of one measure, indexed by area node and period. */
class SeriesIndex {
  readonly byNode = new Map<AreaKey, Map<string, Observation>>();
  readonly children = new Map<AreaKey, Set<AreaKey>>();
  /** Resolutions already made, valid as long as the index does not change. */
  readonly memo = new Map<string, Resolved | undefined>();
  readonly refMemo = new Map<string, Resolved | undefined>();
  minYear = Infinity;

  constructor(private readonly units: AdminUnits) {}

  add(o: Observation, preferLatest = false): void {
    const p = mustParsePeriod(o.period);
    const node = areaKey(boundarySetOf(p), o.area);
    let periods = this.byNode.get(node);
    if (!periods) {
      periods = new Map();
      this.byNode.set(node, periods);
      this.link(node);
    }
    const prev = periods.get(o.period);
    if (!prev || (preferLatest && laterThan(o, prev))) periods.set(o.period, o);
    this.minYear = Math.min(this.minYear, p.year);
  }

  private link(node: AreaKey): void {
    const [bs, code] = splitKey(node);
    // An old commune also rolls up into the 2025 communes it went into (re-based history).
    const rebased =
      bs === '2008' ? this.units.newCommunesOf(code).map((c) => areaKey('2025', c)) : [];
    for (const parent of [...this.units.parentsForRollup(bs, code), ...rebased]) {
      const kids = this.children.get(parent);
      if (kids) {
        kids.add(node);
        continue; // the parent chain above is already linked
      }
      this.children.set(parent, new Set([node]));
      this.link(parent);
    }
  }

  hasDirectWithin(node: AreaKey, p: Period): boolean {
    const periods = this.byNode.get(node);
    if (!periods) return false;
    for (const code of periods.keys()) if (contains(p, mustParsePeriod(code))) return true;
    return false;
  }

  childrenIn(node: AreaKey, bs: BoundarySet): AreaKey[] {
    return [...(this.children.get(node) ?? [])].filter((k) => k.startsWith(bs));
  }
}

function laterThan(a: Observation, b: Observation): boolean {
  const ta = Date.parse(a.sentAt);
  const tb = Date.parse(b.sentAt);
  return ta !== tb ? ta > tb : a.feedId > b.feedId;
}

function splitKey(k: AreaKey): [BoundarySet, string] {
  return [k.slice(0, 4) as BoundarySet, k.slice(5)];
}

const spansReform = (p: Period): boolean => p.kind === 'year' && p.year === 2025;

function combine(parts: Resolved[], isSet: boolean, allCovered: boolean): Resolved | undefined {
  if (parts.length === 0) return undefined;
  const obs = parts.flatMap((r) => r.obs);
  if (isSet) {
    const union = new Set<string>();
    for (const r of parts) for (const i of r.amount as ReadonlySet<string>) union.add(i);
    return { amount: union, obs, covered: allCovered };
  }
  return {
    amount: parts.reduce((s, r) => s + (r.amount as number), 0),
    obs,
    covered: allCovered,
  };
}

function leaf(o: Observation): Resolved {
  return { amount: o.items ? new Set(o.items) : (o.value as number), obs: [o], covered: true };
}

/** Resolves a stock or flow measure for one source at (node, period). */
function resolveSeries(
  idx: SeriesIndex,
  node: AreaKey,
  p: Period,
  flow: boolean,
  isSet: boolean,
): Resolved | undefined {
  const memoKey = `${node}|${p.code}`;
  if (idx.memo.has(memoKey)) return idx.memo.get(memoKey);
  const result = compute();
  idx.memo.set(memoKey, result);
  return result;

  function overTime(): Resolved | undefined {
    const kids = childPeriods(p);
    // Only a province's year 2025 reads its first half over the old units: a 2025 commune's
    // reads its second half alone (its re-based history is its own keys).
    const [nodeBs, code] = splitKey(node);
    const skip = (c: Period): boolean =>
      nodeBs === '2025' && code.length === 5 && boundarySetOf(c) === '2008';
    const at = (c: Period): Resolved | undefined =>
      skip(c) ? undefined : resolveSeries(idx, node, c, flow, isSet);
    if (flow) {
      const parts = kids.map(at);
      const present = parts.filter((r): r is Resolved => r !== undefined);
      return combine(
        present,
        isSet,
        present.length === kids.length && present.every((r) => r.covered),
      );
    }
    for (const c of [...kids].reverse()) {
      const r = at(c);
      if (r) return r;
    }
    return undefined;
  }

  function overAreas(bs: BoundarySet): Resolved | undefined {
    const parts = idx
      .childrenIn(node, bs)
      .map((c) => resolveSeries(idx, c, p, flow, isSet))
      .filter((r): r is Resolved => r !== undefined);
    return combine(
      parts,
      isSet,
      parts.every((r) => r.covered),
    );
  }

  function compute(): Resolved | undefined {
    const direct = idx.byNode.get(node)?.get(p.code);
    const [nodeBs] = splitKey(node);
    const pBs = boundarySetOf(p);
    if (direct && nodeBs === pBs) return leaf(direct);
    if (spansReform(p)) return overTime();
    if (nodeBs !== pBs) return overAreas(pBs); // a 2025 province asked about 2008-era periods
    if (p.kind !== 'month' && idx.hasDirectWithin(node, p)) return overTime();
    return overAreas(pBs);
  }
}

/** The value a reference measure has at exactly (node, period), rolled up over areas. */
function referenceAt(idx: SeriesIndex, node: AreaKey, p: Period): Resolved | undefined {
  const memo = idx.refMemo;
  const memoKey = `${node}|${p.code}`;
  if (memo.has(memoKey)) return memo.get(memoKey);
  const pBs = boundarySetOf(p);
  const [nodeBs] = splitKey(node);
  let result: Resolved | undefined;
  const direct = nodeBs === pBs ? idx.byNode.get(node)?.get(p.code) : undefined;
  if (direct) result = leaf(direct);
  else {
    const parts = idx
      .childrenIn(node, pBs)
      .map((c) => referenceAt(idx, c, p))
      .filter((r): r is Resolved => r !== undefined);
    result = combine(parts, false, true);
  }
  memo.set(memoKey, result);
  return result;
}

/**
 * Current observations, indexed once per measure and source. Build one per batch and compute
 * every key from it: resolutions of sub-areas and sub-periods are shared between keys.
 */
export class ObservationSet {
  private readonly byMeasure = new Map<string, Observation[]>();
  private readonly perSource = new Map<string, Map<string, SeriesIndex>>();
  private readonly merged = new Map<string, SeriesIndex>();

  constructor(
    observations: readonly Observation[],
    readonly units: AdminUnits,
  ) {
    for (const o of observations) {
      const list = this.byMeasure.get(o.measure);
      if (list) list.push(o);
      else this.byMeasure.set(o.measure, [o]);
    }
  }

  /** One index per source (for measures that combine across sources). */
  seriesBySource(measure: string): Map<string, SeriesIndex> {
    let out = this.perSource.get(measure);
    if (!out) {
      out = new Map();
      for (const [source, list] of groupBySource(this.byMeasure.get(measure) ?? [])) {
        const idx = new SeriesIndex(this.units);
        for (const o of list) idx.add(o);
        out.set(source, idx);
      }
      this.perSource.set(measure, out);
    }
    return out;
  }

  /** One index for all sources, the later report winning (reference measures, statistics). */
  mergedSeries(measure: string): SeriesIndex {
    let idx = this.merged.get(measure);
    if (!idx) {
      idx = new SeriesIndex(this.units);
      for (const o of this.byMeasure.get(measure) ?? []) idx.add(o, true);
      this.merged.set(measure, idx);
    }
    return idx;
  }
}

interface OperandResult {
  readonly amount: number | undefined;
  readonly contributors: Set<string>;
  readonly obs: Observation[];
  /** For flows: sources whose reports do not tile the whole period. */
  readonly uncovered: Set<string>;
  /** For reference operands: the period the value came from. */
  readonly fromPeriod?: string;
  /** For reference operands: it came from an earlier year, not from the period or its parents. */
  readonly stale?: boolean;
  /** For reference operands across the reform: the old provinces read, and those lacking one. */
  readonly oldUnits?: readonly string[];
  readonly lacking?: readonly string[];
}

export interface AggregationContext {
  readonly units: AdminUnits;
  readonly registry: SourceRegistry;
}

function groupBySource(obs: readonly Observation[]): Map<string, Observation[]> {
  const out = new Map<string, Observation[]>();
  for (const o of obs) {
    const list = out.get(o.source);
    if (list) list.push(o);
    else out.set(o.source, [o]);
  }
  return out;
}

function evaluateOperand(op: Operand, target: KpiKey, set: ObservationSet): OperandResult {
  const def = MEASURES[op.measure]!;
  const p = mustParsePeriod(target.period);
  const node = areaKey(target.bs, target.area);
  const empty: OperandResult = {
    amount: undefined,
    contributors: new Set(),
    obs: [],
    uncovered: new Set(),
  };

  if (def.time === 'reference' || def.time === 'none') {
    // One source by registration; should two report, the later report wins per area and period.
    const idx = set.mergedSeries(op.measure);
    if (def.time === 'none') {
      const direct = idx.byNode.get(node)?.get(p.code);
      if (!direct) return empty;
      return {
        amount: direct.value,
        contributors: new Set([direct.source]),
        obs: [direct],
        uncovered: new Set(),
      };
    }
    const candidates = selfAndAncestors(p);
    for (let y = p.year - 1; y >= idx.minYear; y--) candidates.push(mustParsePeriod(String(y)));
    const fromOne = (r: Resolved, q: Period): OperandResult => {
      const stale = q.year !== p.year;
      return {
        amount: r.amount as number,
        contributors: stale ? new Set() : new Set(r.obs.map((o) => o.source)),
        obs: [...r.obs],
        uncovered: new Set(),
        fromPeriod: q.code,
        stale,
      };
    };
    // A value never crosses into another unit (contract v1.1): a 2025 province read in the
    // 2008 lists (its re-based history, or a fallback past the reform) takes each old
    // province's latest value, and their sum only when every one has one.
    const olds = (from: number, oldUnits: readonly string[]): OperandResult => {
      const found: [Resolved, Period][] = [];
      const lacking: string[] = [];
      for (const old of oldUnits) {
        let hit: [Resolved, Period] | undefined;
        for (const q of candidates.slice(from)) {
          if (boundarySetOf(q) !== '2008') continue;
          const r = referenceAt(idx, areaKey('2008', old), q);
          if (r) {
            hit = [r, q];
            break;
          }
        }
        if (hit) found.push(hit);
        else lacking.push(old);
      }
      if (lacking.length) return { ...empty, oldUnits, lacking };
      const parts = found.map(([r, q]) => fromOne(r, q));
      const stale = parts.some((x) => x.stale);
      const oldest = found
        .map(([, q]) => q)
        .sort(
          (a, b) =>
            a.year - b.year ||
            monthSpan(b)[1] - monthSpan(b)[0] - (monthSpan(a)[1] - monthSpan(a)[0]),
        )[0]!;
      return {
        amount: parts.reduce((sum, x) => sum + x.amount!, 0),
        contributors: stale ? new Set() : new Set(parts.flatMap((x) => [...x.contributors])),
        obs: parts.flatMap((x) => x.obs),
        uncovered: new Set(),
        fromPeriod: oldest.code,
        stale,
        oldUnits,
      };
    };
    // Old units: of a 2025 province always; of a 2025 commune for its re-based history only.
    const level = target.bs === '2025' ? set.units.get('2025', target.area)?.level : undefined;
    const oldUnits =
      level === 'province'
        ? set.units.oldProvincesOf(target.area).sort()
        : level === 'commune' && boundarySetOf(p) === '2008'
          ? set.units.communeOrigin(target.area)?.from
          : undefined;
    for (const [i, q] of candidates.entries()) {
      if (boundarySetOf(q) !== target.bs) {
        if (oldUnits) return olds(i, oldUnits);
        continue;
      }
      const r = referenceAt(idx, node, q);
      if (r) return fromOne(r, q);
    }
    return empty;
  }

  // Stocks and flows: resolve per source, then combine across sources.
  const isSet = def.kind === 'item_set';
  const perSource: [string, Resolved][] = [];
  for (const [source, idx] of set.seriesBySource(op.measure)) {
    const r = resolveSeries(idx, node, p, def.time === 'flow', isSet);
    if (r) perSource.push([source, r]);
  }
  if (perSource.length === 0) return empty;
  const contributors = new Set(perSource.map(([s]) => s));
  const uncovered = new Set(perSource.filter(([, r]) => !r.covered).map(([s]) => s));
  const allObs = perSource.flatMap(([, r]) => r.obs);

  let amount: number;
  if (op.take === 'value') {
    amount = perSource.reduce((s, [, r]) => s + (r.amount as number), 0);
  } else {
    const seen = new Map<string, number>();
    for (const [, r] of perSource)
      for (const item of r.amount as ReadonlySet<string>) seen.set(item, (seen.get(item) ?? 0) + 1);
    amount =
      op.take === 'count_union' ? seen.size : [...seen.values()].filter((n) => n >= 2).length;
  }
  return { amount, contributors, obs: allObs, uncovered };
}

/**
 * Computes one KPI for one area and period from the current observations of its measures.
 * `obs` may hold more than needed (other areas, periods, measures): they are ignored. Pass
 * an ObservationSet to compute many keys from the same observations.
 */
export function computeKpi(
  key: KpiKey,
  obs: readonly Observation[] | ObservationSet,
  ctx: AggregationContext,
): KpiComputation {
  const set = obs instanceof ObservationSet ? obs : new ObservationSet(obs, ctx.units);
  const def: KpiDef | undefined = KPIS[key.kpi];
  if (!def) throw new Error(`unknown KPI ${key.kpi}`);
  const unit = ctx.units.get(key.bs, key.area);
  // Re-based history (a 2025 unit, a period before the reform): the old units' sources; a
  // commune formed in part from a split old one has none (its figures are null).
  const rebased = key.bs === '2025' && boundarySetOf(mustParsePeriod(key.period)) === '2008';
  const origin =
    rebased && unit?.level === 'commune' ? ctx.units.communeOrigin(key.area) : undefined;
  const split = origin !== undefined && origin.split.length > 0;
  const provinces = !rebased
    ? [unit?.province ?? key.area.slice(0, 2)]
    : origin
      ? [...new Set(origin.from.map((c) => ctx.units.get('2008', c)!.province))].sort()
      : ctx.units.oldProvincesOf(key.area);

  const num = evaluateOperand(def.numerator, key, set);
  const den = def.denominator ? evaluateOperand(def.denominator, key, set) : undefined;

  const operands: [Operand, OperandResult][] = [[def.numerator, num]];
  if (def.denominator && den) operands.push([def.denominator, den]);

  const expected = new Set<string>();
  const reported = new Set<string>();
  let complete = true;
  for (const [op, r] of operands) {
    const exp = [...new Set(provinces.flatMap((p) => ctx.registry.expectedFor(op.measure, p)))];
    for (const s of exp) expected.add(s);
    if (!split) for (const s of r.contributors) reported.add(s);
    if (r.amount === undefined || r.stale || r.uncovered.size > 0) complete = false;
    if (exp.some((s) => !r.contributors.has(s))) complete = false;
  }
  const usedObs = operands.flatMap(([, r]) => r.obs);
  if (usedObs.some((o) => o.status !== 'actual')) complete = false;

  const hasData = num.amount !== undefined;
  const numerator = split ? null : (num.amount ?? null);
  const denominator = den && !split ? (den.amount ?? null) : null;
  let value: number | null = null;
  if (numerator !== null && !def.denominator) value = numerator;
  else if (numerator !== null && denominator !== null && denominator !== 0)
    value = (numerator / denominator) * def.scale;
  if (value === null) complete = false;
  const note = split
    ? splitNote(origin.split)
    : kpiNote(
        def,
        key.area,
        key.period,
        rebased,
        numerator,
        denominator,
        den && {
          stale: den.stale ?? false,
          fromPeriod: den.fromPeriod,
          oldUnits: den.oldUnits,
          lacking: den.lacking?.length ? den.lacking : undefined,
        },
      );

  const inputs = new Map<string, InputRef>();
  for (const o of usedObs) {
    const ref: InputRef = {
      source: o.source,
      feedId: o.feedId,
      measure: o.measure,
      ...(o.qualifier ? { qualifier: o.qualifier } : {}),
    };
    inputs.set(
      `${ref.source}\u0000${ref.feedId}\u0000${ref.measure}\u0000${ref.qualifier ?? ''}`,
      ref,
    );
  }

  const flow = !def.denominator && MEASURES[def.numerator.measure]!.time === 'flow';
  let yearToDate: number | null | undefined;
  if (flow) {
    // A 2025 commune's 2025 to date leaves out January to June (see resolveSeries' overTime).
    const across = (tile: Period): boolean =>
      key.bs === '2025' && !rebased && unit?.level === 'commune' && boundarySetOf(tile) === '2008';
    const parts = yearToDateTiling(mustParsePeriod(key.period)).map((tile) =>
      across(tile)
        ? undefined
        : evaluateOperand(def.numerator, { ...key, period: tile.code }, set).amount,
    );
    yearToDate = parts.some((a) => a !== undefined)
      ? parts.reduce<number>((s, a) => s + (a ?? 0), 0)
      : null;
  }

  return {
    hasData,
    value,
    numerator,
    denominator,
    denominatorPeriod: def.denominator
      ? (den?.fromPeriod ?? (denominator !== null ? key.period : null))
      : null,
    status: complete ? 'final' : 'provisional',
    completeness: { expected: [...expected].sort(), reported: [...reported].sort() },
    inputs: [...inputs.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, r]) => r),
    ...(note ? { note } : {}),
    ...(flow ? { yearToDate } : {}),
  };
}

/** Standard periods that tile January to the end of a period, largest first. */
export function yearToDateTiling(p: Period): Period[] {
  const end = monthSpan(p)[1];
  if (end === 12) return [mustParsePeriod(String(p.year))];
  const out: Period[] = [];
  for (let m = 1; m <= end;) {
    if (m === 1 && end >= 6) {
      out.push(mustParsePeriod(`${p.year}-H1`));
      m = 7;
    } else if (m % 3 === 1 && m + 2 <= end) {
      out.push(mustParsePeriod(`${p.year}-Q${(m + 2) / 3}`));
      m += 3;
    } else {
      out.push(mustParsePeriod(`${p.year}-${String(m).padStart(2, '0')}`));
      m++;
    }
  }
  return out;
}

/**
 * The KPI keys whose value a change of (measure, area, period) can move, before reference
 * fan-out: the area and its enclosing units, the period and its enclosing periods, every KPI
 * that reads the measure. A reference measure (population, ...) also moves existing keys of
 * later periods that fall back on it: the caller adds those from its store.
 */
export function affectedKeys(
  change: { readonly measure: string; readonly area: string; readonly period: string },
  units: AdminUnits,
): KpiKey[] {
  const p = mustParsePeriod(change.period);
  const bs = boundarySetOf(p);
  const chain = units.selfAndAncestors(bs, change.area);
  const kpis = Object.values(KPIS).filter(
    (k) => k.numerator.measure === change.measure || k.denominator?.measure === change.measure,
  );
  const out: KpiKey[] = [];
  for (const q of selfAndAncestors(p)) {
    const qBs = boundarySetOf(q);
    let areas: string[];
    if (qBs === bs) areas = chain.map((u) => u.code);
    else {
      const province = chain.at(-1);
      const np = province ? units.newProvinceOf(province.code) : undefined;
      areas = np ? [np] : [];
    }
    for (const area of areas)
      for (const k of kpis) out.push({ kpi: k.code, bs: qBs, area, period: q.code });
    // Re-based history: the 2025 province reads every old province, a 2025 commune the old
    // communes that went into it.
    if (qBs === '2008') {
      const province = chain.at(-1);
      const np = province ? units.newProvinceOf(province.code) : undefined;
      const communes = chain[0]?.level === 'commune' ? units.newCommunesOf(chain[0].code) : [];
      for (const area of [...(np ? [np] : []), ...communes])
        for (const k of kpis) out.push({ kpi: k.code, bs: '2025', area, period: q.code });
    }
  }
  return out;
}

/** The province node(s) whose observations a KPI key can read. */
export function provincesRead(key: KpiKey, units: AdminUnits): AreaKey[] {
  const unit = units.get(key.bs, key.area);
  if (!unit) return [];
  const own = areaKey(key.bs, unit.province);
  if (key.bs === '2025') {
    return [own, ...units.oldProvincesOf(unit.province).map((c) => areaKey('2008', c))];
  }
  return [own];
}

/** What a published KPI looked like, as far as "did it change" is concerned. */
export interface PublishedKpi {
  readonly value: number | null;
  readonly numerator: number | null;
  readonly denominator: number | null;
  readonly status: 'final' | 'provisional';
  readonly completeness: {
    readonly expected: readonly string[];
    readonly reported: readonly string[];
  };
}

/**
 * Contract v1: an event is due when value, numerator, denominator, status or completeness
 * changed, never when a feed changed nothing (a new feedId with the same figures included).
 */
export function kpiChanged(prev: PublishedKpi | undefined, next: KpiComputation): boolean {
  if (!prev) return next.hasData;
  const same = (a: readonly string[], b: readonly string[]): boolean =>
    a.length === b.length && a.every((x, i) => x === b[i]);
  return (
    prev.value !== next.value ||
    prev.numerator !== next.numerator ||
    prev.denominator !== next.denominator ||
    prev.status !== next.status ||
    !same(prev.completeness.expected, next.completeness.expected) ||
    !same(prev.completeness.reported, next.completeness.reported)
  );
}
