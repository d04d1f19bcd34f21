/**
 * Recomputes a group's dirty KPI keys from its state, with the semantics of the catalogue's
 * `computeKpi` (the reference, which the tests hold this to): per source, a direct report
 * stands, else a roll-up over time (stock: the latest sub-period; flow: the sum) when the
 * source reported the unit for sub-periods, else over sub-areas; sources then combine (sum,
 * union, shared); ratios are recomputed from the aggregated numerator and denominator.
 *
 * Resolutions are computed densely, one (measure, source, year, period) at a time for every
 * unit of the group, bottom-up, and shared by every key that reads them. Only keys whose
 * value, numerator, denominator, status or completeness changed come out, with the next
 * revision; `commit()` records them as published once the caller has stored them.
 */
import {
  type BoundarySet,
  type InputRef,
  type KpiComputation,
  KPIS,
  type KpiDef,
  type Operand,
  type SourceRegistry,
} from '@app/catalogue';
import {
  type Block,
  type GroupState,
  KPI_CODES,
  KPI_MASK_OF_MEASURE,
  MEASURE_CODES,
  MEASURE_DEFS,
  MEASURE_INDEX,
  QUALIFIERS,
  type SeriesYear,
  cellOf,
} from './group-state.js';
import { LEVEL, type UnitLayout, unitsOf } from './layout.js';
import { SetPool } from './set-pool.js';
import {
  ANCESTOR_SLOTS,
  CHILD_SLOTS,
  SLOTS,
  WITHIN_MASK,
  YEAR_SLOT,
  YEAR_TO_DATE_SLOTS,
  periodCode,
  slotBoundarySet,
  spansReform,
} from './slots.js';

const HOW_NONE = 0;
const HOW_LEAF = 1;
const HOW_TIME = 2;
const HOW_AREAS = 3;

/** One measure's resolution for every unit of a boundary set, at one (year, slot). */
interface Dense {
  readonly bs: BoundarySet;
  readonly year: number;
  readonly slot: number;
  readonly units: UnitLayout;
  /** The series (per source) or the sources' series (merged reference and statistics). */
  readonly series: readonly (SeriesYear | undefined)[];
  readonly val: Float64Array;
  /** Item sets: >= 0 an offset in the group's pool, < 0 (-offset - 1) in this flush's. */
  readonly sets: Int32Array | undefined;
  readonly how: Uint8Array;
  /** Stock over time: the sub-slot taken. Merged: the winning source's position in `series`. */
  readonly pick: Int8Array;
  readonly covered: Uint8Array;
  readonly actual: Uint8Array;
  /** Merged: the one source the value comes from, -2 when several, -1 none. */
  readonly source: Int16Array | undefined;
}

interface OperandResult {
  amount: number | undefined;
  contributors: number[];
  uncovered: boolean;
  actual: boolean;
  stale: boolean;
  fromPeriod: string | undefined;
}

/** A key whose published figures change, with its next revision. */
export interface KpiChange {
  readonly kpi: string;
  readonly bs: BoundarySet;
  readonly area: string;
  /** 0 commune, 1 district, 2 province. */
  readonly level: number;
  readonly period: string;
  readonly year: number;
  readonly revision: number;
  readonly computation: KpiComputation;
}

/** What one exchange's slices changed in this flush, for the audit log. */
export interface Attribution {
  count: number;
  /** Coarsest areas first, at most `ATTRIBUTED_KEYS`. */
  keys: string[];
}
export const ATTRIBUTED_KEYS = 100;

export interface FlushContext {
  readonly registry: SourceRegistry;
}

interface Expectation {
  readonly id: number;
  /** Every source expected for any input, sorted. */
  readonly list: string[];
  /** Per operand: the group's index of each expected source (-1: it never reported here). */
  readonly numerator: readonly number[];
  readonly denominator: readonly number[];
}

function operandResult(): OperandResult {
  return {
    amount: undefined,
    contributors: [],
    uncovered: false,
    actual: true,
    stale: false,
    fromPeriod: undefined,
  };
}

/** Every expected source contributed (one that never reported in the group did not). */
function covers(contributors: readonly number[], expected: readonly number[]): boolean {
  for (const e of expected) if (e < 0 || !contributors.includes(e)) return false;
  return true;
}

const sameNumber = (a: number, b: number): boolean => a === b || (a !== a && b !== b);

export class GroupFlush {
  /** This year's resolutions per (measure, source, slot); merged ones per (year, measure, slot). */
  private readonly dense = new Map<number, Dense>();
  private readonly merged = new Map<number, Dense>();
  private readonly inputRefs = new Map<number, { key: string; ref: InputRef }>();
  private readonly rows = new Map<number, Dense[]>();
  private readonly sourcesCache = new Map<number, number[]>();
  private readonly expectations = new Map<string, Expectation>();
  private readonly completenessCache = new Map<number, number>();
  private counts: Uint16Array;
  /** Operand results, reused per key. */
  private readonly numR = operandResult();
  private readonly denR = operandResult();
  private readonly tileR = operandResult();
  /** Sets made by this flush's unions (cleared with the resolutions, per year). */
  private readonly pool = new SetPool();
  private readonly touched: number[] = [];
  /** Published changes to record on commit: year, bs, kpi, index, revision, final, completeness. */
  private readonly log: number[] = [];
  private readonly logValues: number[] = [];
  private readonly emitted = new Map<string, Uint32Array>();
  changes = 0;
  evaluated = 0;

  constructor(
    private readonly state: GroupState,
    private readonly ctx: FlushContext,
  ) {
    this.counts = new Uint16Array(Math.max(16, state.itemCount));
  }

  /** The changed keys, in chunks; every dirty key is evaluated once. */
  *chunks(size = 5_000): Generator<KpiChange[]> {
    let out: KpiChange[] = [];
    for (const year of this.state.dirtyYears()) {
      this.dense.clear();
      this.rows.clear();
      this.pool.length = 0;
      for (const bs of ['2008', '2025'] as const) {
        const words = this.state.dirtyWords(year, bs);
        if (!words) continue;
        const units = unitsOf(this.state.layout, bs);
        for (let u = 0; u < units.size; u++)
          for (let s = 0; s < SLOTS; s++) {
            let mask = words[u * SLOTS + s]!;
            if (mask === 0) continue;
            // A key's period is coded in the boundary set of its last day.
            if (slotBoundarySet(year, s) !== bs || units.level[u] === LEVEL.virtual) continue;
            while (mask !== 0) {
              const k = 31 - Math.clz32(mask);
              mask &= ~(1 << k);
              const change = this.evaluateKey(year, bs, units, u, s, k);
              if (change) {
                out.push(change);
                if (out.length >= size) {
                  yield out;
                  out = [];
                }
              }
            }
          }
      }
    }
    this.dense.clear();
    this.rows.clear();
    this.merged.clear();
    if (out.length) yield out;
  }

  /** Records what was yielded as published, and forgets the dirty keys. */
  commit(): void {
    const st = this.state;
    const log = this.log;
    for (let i = 0, j = 0; i < log.length; i += 7, j += 2) {
      const b = st.kpiBlock(log[i]!, log[i + 1] === 0 ? '2008' : '2025', log[i + 2]!, true);
      const idx = log[i + 3]!;
      b.numerator[idx] = this.logValues[j]!;
      b.denominator[idx] = this.logValues[j + 1]!;
      b.revision[idx] = log[i + 4]!;
      b.final[idx] = log[i + 5]!;
      b.completeness[idx] = log[i + 6]!;
    }
    st.clearDirty();
    st.pending = [];
  }

  // ---- one key ----

  private evaluateKey(
    year: number,
    bs: BoundarySet,
    units: UnitLayout,
    u: number,
    s: number,
    k: number,
  ): KpiChange | undefined {
    this.evaluated++;
    const code = KPI_CODES[k]!;
    const def = KPIS[code]!;
    const num = this.operand(def.numerator, year, bs, u, s, this.numR);
    const den = def.denominator
      ? this.operand(def.denominator, year, bs, u, s, this.denR)
      : undefined;
    const numerator = num.amount ?? null;
    const denominator = den ? (den.amount ?? null) : null;
    const hasData = numerator !== null;

    const st = this.state;
    const pub = st.kpiBlock(year, bs, k);
    const idx = u * SLOTS + s;
    const prevRevision = pub ? pub.revision[idx]! : 0;
    if (prevRevision === 0 && !hasData) return undefined;

    const exp = this.expectation(k, def, units.provinceCode[u]!);
    const value = valueOf(def, numerator, denominator);
    const complete =
      value !== null &&
      num.actual &&
      !num.stale &&
      !num.uncovered &&
      covers(num.contributors, exp.numerator) &&
      (!den ||
        (den.amount !== undefined &&
          den.actual &&
          !den.stale &&
          !den.uncovered &&
          covers(den.contributors, exp.denominator)));
    const final = complete ? 1 : 0;
    const comp = this.completenessId(exp, num.contributors, den?.contributors);

    if (
      prevRevision > 0 &&
      sameNumber(pub!.numerator[idx]!, numerator ?? NaN) &&
      sameNumber(pub!.denominator[idx]!, denominator ?? NaN) &&
      pub!.final[idx] === final &&
      pub!.completeness[idx] === comp
    )
      return undefined;

    // A change: the rest of the event.
    const revision = prevRevision + 1;
    const bsi = bs === '2008' ? 0 : 1;
    this.log.push(year, bsi, k, idx, revision, final, comp);
    this.logValues.push(numerator ?? NaN, denominator ?? NaN);
    this.markEmitted(year, bs, idx, k);
    this.changes++;

    let note: string | undefined;
    if (numerator === null) note = `no data for ${def.numerator.measure}`;
    else if (def.denominator && denominator === null)
      note = `no ${def.denominator.measure} for ${units.codes[u]} in or before ${periodCode(year, s)}`;
    else if (def.denominator && denominator === 0) note = `${def.denominator.measure} is zero`;
    if (den?.stale && value !== null)
      note = `denominator ${def.denominator!.measure} taken from ${den.fromPeriod}`;

    const used = new Set<number>();
    this.lineage(def.numerator, year, bs, u, s, used);
    if (def.denominator) this.lineage(def.denominator, year, bs, u, s, used);
    const inputs = [...used].map((code) => this.inputRef(code));
    inputs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

    const flow =
      !def.denominator && MEASURE_DEFS[MEASURE_INDEX.get(def.numerator.measure)!]!.time === 'flow';
    let yearToDate: number | null | undefined;
    if (flow) {
      let any = false;
      let sum = 0;
      for (const t of YEAR_TO_DATE_SLOTS[s]!) {
        const tb = slotBoundarySet(year, t);
        const tu = this.mapUnit(bs, u, tb);
        if (tu < 0) continue;
        const a = this.operand(def.numerator, year, tb, tu, t, this.tileR).amount;
        if (a !== undefined) {
          any = true;
          sum += a;
        }
      }
      yearToDate = any ? sum : null;
    }

    const period = periodCode(year, s);
    return {
      kpi: code,
      bs,
      area: units.codes[u]!,
      level: units.level[u]!,
      period,
      year,
      revision,
      computation: {
        hasData,
        value,
        numerator,
        denominator,
        denominatorPeriod: def.denominator
          ? (den?.fromPeriod ?? (denominator !== null ? period : null))
          : null,
        status: complete ? 'final' : 'provisional',
        completeness: st.completenessList[comp]!,
        inputs: inputs.map((i) => i.ref),
        ...(note ? { note } : {}),
        ...(flow ? { yearToDate } : {}),
      },
    };
  }

  /** Who is expected to report a KPI's inputs in a province (the registry, as now). */
  private expectation(k: number, def: KpiDef, province: string): Expectation {
    const key = `${k}|${province}`;
    let e = this.expectations.get(key);
    if (e) return e;
    const st = this.state;
    const local = (ids: readonly string[]): number[] => ids.map((id) => st.sources.indexOf(id));
    const num = this.ctx.registry.expectedFor(def.numerator.measure, province);
    const den = def.denominator
      ? this.ctx.registry.expectedFor(def.denominator.measure, province)
      : [];
    e = {
      id: this.expectations.size,
      list: [...new Set([...num, ...den])].sort(),
      numerator: local(num),
      denominator: local(den),
    };
    this.expectations.set(key, e);
    return e;
  }

  /** The interned completeness of a key: its expectation and the sources that contributed. */
  private completenessId(
    exp: Expectation,
    a: readonly number[],
    b: readonly number[] | undefined,
  ): number {
    const st = this.state;
    if (st.sources.length <= 30) {
      let mask = 0;
      for (const c of a) mask |= 1 << c;
      if (b) for (const c of b) mask |= 1 << c;
      const key = exp.id * 2 ** 31 + mask;
      let id = this.completenessCache.get(key);
      if (id === undefined) {
        const names: string[] = [];
        for (let c = 0; c < st.sources.length; c++) if (mask & (1 << c)) names.push(st.sources[c]!);
        id = st.internCompleteness(exp.list, names.sort());
        this.completenessCache.set(key, id);
      }
      return id;
    }
    const names = [...new Set([...a, ...(b ?? [])])].map((c) => st.sources[c]!).sort();
    return st.internCompleteness(exp.list, names);
  }

  /** The same unit seen from another boundary set: only the 2025 province has a 2008 view. */
  private mapUnit(from: BoundarySet, u: number, to: BoundarySet): number {
    if (from === to) return u;
    const g = this.state.layout;
    return from === '2025' && u === g.province2025 ? g.virtual2008 : -1;
  }

  // ---- operands ----

  /** One operand at (year, unit, slot), into `r` (reused: a flush evaluates millions). */
  private operand(
    op: Operand,
    year: number,
    bs: BoundarySet,
    u: number,
    s: number,
    r: OperandResult,
  ): OperandResult {
    r.amount = undefined;
    r.contributors.length = 0;
    r.uncovered = false;
    r.actual = true;
    r.stale = false;
    r.fromPeriod = undefined;
    const m = MEASURE_INDEX.get(op.measure)!;
    const def = MEASURE_DEFS[m]!;
    if (def.time === 'reference') return this.reference(m, year, bs, u, s, r);
    if (def.time === 'none') return this.statistic(m, year, bs, u, s, r);
    const sources = this.sources(m, year);
    const dense = this.row(m, year, s);
    if (op.take === 'value') {
      let sum = 0;
      for (let i = 0; i < sources.length; i++) {
        const d = dense[i]!;
        if (d.how[u] === HOW_NONE) continue;
        sum += d.val[u]!;
        r.contributors.push(sources[i]!);
        if (!d.covered[u]) r.uncovered = true;
        if (!d.actual[u]) r.actual = false;
      }
      if (r.contributors.length) r.amount = sum;
      return r;
    }
    const counts = this.counts;
    const touched = this.touched;
    for (let i = 0; i < sources.length; i++) {
      const d = dense[i]!;
      if (d.how[u] === HOW_NONE) continue;
      r.contributors.push(sources[i]!);
      if (!d.actual[u]) r.actual = false;
      const ref = d.sets![u]!;
      const data = ref >= 0 ? this.state.items.data : this.pool.data;
      const off = ref >= 0 ? ref : -ref - 1;
      for (let j = off + 1, end = off + data[off]!; j <= end; j++) {
        const id = data[j]!;
        if (counts[id] === 0) touched.push(id);
        counts[id]!++;
      }
    }
    if (!r.contributors.length) return r;
    let n = 0;
    for (const id of touched) {
      if (op.take === 'count_union' || counts[id]! >= 2) n++;
      counts[id] = 0;
    }
    touched.length = 0;
    r.amount = n;
    return r;
  }

  /**
   * A reference measure: the period's own value, else the nearest enclosing period's, else
   * the latest earlier year's (stale: its source does not count as reported).
   */
  private reference(
    m: number,
    year: number,
    bs: BoundarySet,
    u: number,
    s: number,
    r: OperandResult,
  ): OperandResult {
    const slots = ANCESTOR_SLOTS[s]!;
    const minYear = this.state.minYear[m]!;
    for (let i = 0, y = year; y >= minYear;) {
      const c = y === year ? slots[i]! : YEAR_SLOT;
      const cu = this.mapUnit(bs, u, slotBoundarySet(y, c));
      if (cu >= 0) {
        const d = this.mergedDense(m, y, c);
        if (d.how[cu] !== HOW_NONE) {
          r.amount = d.val[cu]!;
          r.stale = y !== year;
          if (!r.stale) this.mergedSources(d, cu, r.contributors);
          r.actual = d.actual[cu] === 1;
          r.fromPeriod = periodCode(y, c);
          return r;
        }
      }
      if (y === year && ++i < slots.length) continue;
      y--;
    }
    return r;
  }

  private statistic(
    m: number,
    year: number,
    bs: BoundarySet,
    u: number,
    s: number,
    r: OperandResult,
  ): OperandResult {
    const w = this.winner(m, year, bs, u, s);
    if (!w) return r;
    const f = this.state.feeds[w.block.feed[w.cell]!]!;
    r.amount = w.block.values[w.cell]!;
    r.contributors.push(f.source);
    r.actual = f.status === 0;
    return r;
  }

  /** An input of lineage (feed * 256 + qualifier * 32 + measure), with its sort key. */
  private inputRef(code: number): { key: string; ref: InputRef } {
    let r = this.inputRefs.get(code);
    if (!r) {
      const st = this.state;
      const f = st.feeds[Math.floor(code / 256)]!;
      const q = QUALIFIERS[(code >> 5) & 7];
      const measure = MEASURE_CODES[code & 31]!;
      const source = st.sources[f.source]!;
      r = {
        key: `${source}\u0000${f.feedId}\u0000${measure}\u0000${q ?? ''}`,
        ref: { source, feedId: f.feedId, measure, ...(q ? { qualifier: q } : {}) },
      };
      this.inputRefs.set(code, r);
    }
    return r;
  }

  /** Every source's resolution of a measure at (year, slot), in the order of `sources`. */
  private row(m: number, year: number, slot: number): Dense[] {
    const key = m * 32 + slot;
    let r = this.rows.get(key);
    if (!r) {
      r = this.sources(m, year).map((src) => this.seriesDense(m, src, year, slot));
      this.rows.set(key, r);
    }
    return r;
  }

  private actualFlags: Uint8Array | undefined;

  /** Per feed: 1 when its status is actual. */
  private feedActual(): Uint8Array {
    const feeds = this.state.feeds;
    if (!this.actualFlags || this.actualFlags.length !== feeds.length)
      this.actualFlags = Uint8Array.from(feeds, (f) => (f.status === 0 ? 1 : 0));
    return this.actualFlags;
  }

  private sources(m: number, year: number): number[] {
    const key = m * 10_000 + year;
    let s = this.sourcesCache.get(key);
    if (!s) this.sourcesCache.set(key, (s = this.state.sourcesOf(m, year)));
    return s;
  }

  /** The latest current report across sources at exactly (unit, slot): merged series. */
  private winner(
    m: number,
    year: number,
    bs: BoundarySet,
    u: number,
    s: number,
  ): { block: Block; cell: number; at: number } | undefined {
    let best: { block: Block; cell: number; at: number } | undefined;
    const sources = this.sources(m, year);
    for (let i = 0; i < sources.length; i++) {
      const block = this.state.seriesYear(m, sources[i]!, year)?.block(bs, s);
      if (!block) continue;
      const cell = cellOf(block, u, s);
      if (!block.present(cell)) continue;
      if (!best || this.newer(block.feed[cell]!, best.block.feed[best.cell]!))
        best = { block, cell, at: i };
    }
    return best;
  }

  private newer(a: number, b: number): boolean {
    const fa = this.state.feeds[a]!;
    const fb = this.state.feeds[b]!;
    return fa.sentAt !== fb.sentAt ? fa.sentAt > fb.sentAt : fa.feedId > fb.feedId;
  }

  /** The sources a merged value at u comes from, sorted, into `out`. */
  private mergedSources(d: Dense, u: number, out: number[]): void {
    const one = d.source![u]!;
    if (one >= 0) {
      out.push(one);
      return;
    }
    const found = new Set<number>();
    const walk = (i: number): void => {
      if (d.how[i] === HOW_LEAF) found.add(d.source![i]!);
      else if (d.how[i] === HOW_AREAS)
        for (let c = d.units.childStart[i]!; c < d.units.childStart[i + 1]!; c++) {
          const child = d.units.childList[c]!;
          if (d.how[child] !== HOW_NONE) walk(child);
        }
    };
    walk(u);
    out.push(...[...found].sort((a, b) => a - b));
  }

  // ---- dense resolutions ----

  /** One source's stock or flow at (year, slot), for every unit of the slot's boundary set. */
  private seriesDense(m: number, src: number, year: number, slot: number): Dense {
    const key = (m * 1024 + src) * 32 + slot;
    let d = this.dense.get(key);
    if (d) return d;
    const st = this.state;
    const g = st.layout;
    const bs = slotBoundarySet(year, slot);
    const units = unitsOf(g, bs);
    const n = units.size;
    const sy = st.seriesYear(m, src, year);
    const def = MEASURE_DEFS[m]!;
    const isSet = def.kind === 'item_set';
    const flow = def.time === 'flow';
    d = {
      bs,
      year,
      slot,
      units,
      series: [sy],
      val: new Float64Array(isSet ? 0 : n),
      sets: isSet ? new Int32Array(n) : undefined,
      how: new Uint8Array(n),
      pick: new Int8Array(n),
      covered: new Uint8Array(n),
      actual: new Uint8Array(n),
      source: undefined,
    };
    this.dense.set(key, d);
    if (!sy) return d;
    const block = sy.block(bs, slot);
    const direct = sy.direct[bs === '2008' ? 0 : 1];
    const kids = CHILD_SLOTS[slot]!;
    const reform = spansReform(year, slot);
    // Sub-slots, each with the unit it is read at (-1: not readable there).
    const kidDense = kids.map((c) => this.seriesDense(m, src, year, c));
    const kidUnit = (ki: number, u: number): number => this.mapUnit(bs, u, kidDense[ki]!.bs);
    const parts: number[] = [];
    const { how, val, covered: cov, actual: act } = d;
    const dsets = d.sets;
    const feedActual = this.feedActual();
    const k0 = block ? cellOf(block, 0, slot) : 0;
    const ks = block ? block.slots : 0;
    const bFeed = block?.feed;
    const bValues = block?.values;
    const bSets = block?.sets;
    for (let u = 0; u < n; u++) {
      if (bFeed) {
        const cell = u * ks + k0;
        const f = bFeed[cell]!;
        if (f >= 0 && (bSets ? bSets[cell]! >= 0 : bValues![cell] === bValues![cell])) {
          how[u] = HOW_LEAF;
          if (bSets) dsets![u] = bSets[cell]!;
          else val[u] = bValues![cell]!;
          cov[u] = 1;
          act[u] = feedActual[f]!;
          continue;
        }
      }
      const overTime =
        reform ||
        (units.level[u] !== LEVEL.virtual &&
          slot >= 12 &&
          direct !== undefined &&
          (direct[u]! & WITHIN_MASK[slot]!) !== 0);
      if (overTime) {
        if (!flow) {
          for (let ki = kids.length - 1; ki >= 0; ki--) {
            const ku = kidUnit(ki, u);
            const kd = kidDense[ki]!;
            if (ku < 0 || kd.how[ku] === HOW_NONE) continue;
            d.how[u] = HOW_TIME;
            d.pick[u] = ki;
            if (isSet) d.sets![u] = kd.sets![ku]!;
            else d.val[u] = kd.val[ku]!;
            d.covered[u] = kd.covered[ku]!;
            d.actual[u] = kd.actual[ku]!;
            break;
          }
          continue;
        }
        let sum = 0;
        let present = 0;
        let covered = 1;
        let actual = 1;
        for (let ki = 0; ki < kids.length; ki++) {
          const ku = kidUnit(ki, u);
          const kd = kidDense[ki]!;
          if (ku < 0 || kd.how[ku] === HOW_NONE) continue;
          present++;
          sum += kd.val[ku]!;
          covered &= kd.covered[ku]!;
          actual &= kd.actual[ku]!;
        }
        if (present > 0) {
          d.how[u] = HOW_TIME;
          d.val[u] = sum;
          d.covered[u] = present === kids.length ? covered : 0;
          d.actual[u] = actual;
        }
        continue;
      }
      // Over sub-areas (a virtual node always: a 2025 province asked about a 2008-era period).
      let sum = 0;
      let present = 0;
      let covered = 1;
      let actual = 1;
      parts.length = 0;
      for (let c = units.childStart[u]!; c < units.childStart[u + 1]!; c++) {
        const child = units.childList[c]!;
        if (d.how[child] === HOW_NONE) continue;
        present++;
        if (isSet) parts.push(child);
        else sum += d.val[child]!;
        covered &= d.covered[child]!;
        actual &= d.actual[child]!;
      }
      if (present === 0) continue;
      d.how[u] = HOW_AREAS;
      if (isSet) d.sets![u] = this.union(d.sets!, parts);
      else d.val[u] = sum;
      d.covered[u] = covered;
      d.actual[u] = actual;
    }
    return d;
  }

  /** The union of the children's sets, appended to this flush's pool (one child: its set). */
  private union(sets: Int32Array, parts: number[]): number {
    if (parts.length === 1) return sets[parts[0]!]!;
    const counts = this.counts;
    const touched = this.touched;
    for (const p of parts) {
      const ref = sets[p]!;
      const data = ref >= 0 ? this.state.items.data : this.pool.data;
      const off = ref >= 0 ? ref : -ref - 1;
      for (let i = off + 1, end = off + data[off]!; i <= end; i++) {
        const id = data[i]!;
        if (counts[id] === 0) {
          touched.push(id);
          counts[id] = 1;
        }
      }
    }
    const off = this.pool.add(touched);
    for (const id of touched) counts[id] = 0;
    touched.length = 0;
    return -off - 1;
  }

  /** A reference measure at exactly (year, slot): the latest report, else the sub-areas' sum. */
  private mergedDense(m: number, year: number, slot: number): Dense {
    const key = ((year - 1900) * 32 + m) * 32 + slot;
    let d = this.merged.get(key);
    if (d) return d;
    const st = this.state;
    const bs = slotBoundarySet(year, slot);
    const units = unitsOf(st.layout, bs);
    const n = units.size;
    const sources = this.sources(m, year);
    const series = sources.map((src) => st.seriesYear(m, src, year));
    const source = new Int16Array(n).fill(-1);
    d = {
      bs,
      year,
      slot,
      units,
      series,
      val: new Float64Array(n),
      sets: undefined,
      how: new Uint8Array(n),
      pick: new Int8Array(n).fill(-1),
      covered: new Uint8Array(n),
      actual: new Uint8Array(n),
      source,
    };
    this.merged.set(key, d);
    if (sources.length === 0) return d;
    for (let u = 0; u < n; u++) {
      const w = units.level[u] === LEVEL.virtual ? undefined : this.winner(m, year, bs, u, slot);
      if (w) {
        const f = st.feeds[w.block.feed[w.cell]!]!;
        d.how[u] = HOW_LEAF;
        d.val[u] = w.block.values[w.cell]!;
        d.pick[u] = w.at;
        source[u] = f.source;
        d.actual[u] = f.status === 0 ? 1 : 0;
        continue;
      }
      let sum = 0;
      let present = 0;
      let actual = 1;
      let one = -1;
      for (let c = units.childStart[u]!; c < units.childStart[u + 1]!; c++) {
        const child = units.childList[c]!;
        if (d.how[child] === HOW_NONE) continue;
        sum += d.val[child]!;
        actual &= d.actual[child]!;
        const cs = source[child]!;
        one = present === 0 ? cs : one === cs ? one : -2;
        present++;
      }
      if (present === 0) continue;
      d.how[u] = HOW_AREAS;
      d.val[u] = sum;
      d.actual[u] = actual;
      source[u] = one;
    }
    return d;
  }

  // ---- lineage ----

  private lineage(
    op: Operand,
    year: number,
    bs: BoundarySet,
    u: number,
    s: number,
    /** feed * 256 + qualifier * 32 + measure, for every observation used. */
    out: Set<number>,
  ): void {
    const m = MEASURE_INDEX.get(op.measure)!;
    const def = MEASURE_DEFS[m]!;
    const st = this.state;
    const add = (block: Block, cell: number): void =>
      void out.add(block.feed[cell]! * 256 + block.qual[cell]! * 32 + m);
    if (def.time === 'none') {
      const w = this.winner(m, year, bs, u, s);
      if (w) add(w.block, w.cell);
      return;
    }
    if (def.time === 'reference') {
      const candidates: [number, number][] = ANCESTOR_SLOTS[s]!.map((c) => [year, c]);
      for (let y = year - 1; y >= st.minYear[m]!; y--) candidates.push([y, YEAR_SLOT]);
      for (const [y, c] of candidates) {
        const cu = this.mapUnit(bs, u, slotBoundarySet(y, c));
        if (cu < 0) continue;
        const d = this.mergedDense(m, y, c);
        if (d.how[cu] === HOW_NONE) continue;
        const walk = (i: number): void => {
          if (d.how[i] === HOW_LEAF) {
            const block = d.series[d.pick[i]!]!.block(d.bs, d.slot)!;
            add(block, cellOf(block, i, d.slot));
          } else if (d.how[i] === HOW_AREAS)
            for (let k = d.units.childStart[i]!; k < d.units.childStart[i + 1]!; k++) {
              const child = d.units.childList[k]!;
              if (d.how[child] !== HOW_NONE) walk(child);
            }
        };
        walk(cu);
        return;
      }
      return;
    }
    for (const src of this.sources(m, year)) {
      const d = this.seriesDense(m, src, year, s);
      if (d.how[u] !== HOW_NONE) this.walkSeries(m, src, d, u, add);
    }
  }

  private walkSeries(
    m: number,
    src: number,
    d: Dense,
    u: number,
    add: (b: Block, cell: number) => void,
  ): void {
    switch (d.how[u]) {
      case HOW_LEAF: {
        const block = d.series[0]!.block(d.bs, d.slot)!;
        add(block, cellOf(block, u, d.slot));
        return;
      }
      case HOW_TIME: {
        const kids = CHILD_SLOTS[d.slot]!;
        const flow = MEASURE_DEFS[m]!.time === 'flow';
        for (let ki = 0; ki < kids.length; ki++) {
          if (!flow && ki !== d.pick[u]) continue;
          const kd = this.seriesDense(m, src, d.year, kids[ki]!);
          const ku = this.mapUnit(d.bs, u, kd.bs);
          if (ku >= 0 && kd.how[ku] !== HOW_NONE) this.walkSeries(m, src, kd, ku, add);
        }
        return;
      }
      case HOW_AREAS:
        for (let c = d.units.childStart[u]!; c < d.units.childStart[u + 1]!; c++) {
          const child = d.units.childList[c]!;
          if (d.how[child] !== HOW_NONE) this.walkSeries(m, src, d, child, add);
        }
        return;
    }
  }

  // ---- the audit log ----

  private markEmitted(year: number, bs: BoundarySet, idx: number, k: number): void {
    const key = `${year}.${bs}`;
    let w = this.emitted.get(key);
    if (!w)
      this.emitted.set(key, (w = new Uint32Array(unitsOf(this.state.layout, bs).size * SLOTS)));
    w[idx]! |= 1 << k;
  }

  /**
   * For each exchange applied since the last flush: how many of the changed keys its
   * observations reach (the keys `GroupState` marked dirty for them), and the first of them.
   * Call after `chunks()` is exhausted.
   */
  attribution(): Map<string, Attribution> {
    const out = new Map<string, Attribution>();
    const st = this.state;
    const g = st.layout;
    /** Per (year, boundary set): what this flush emitted, and what the current slice reached. */
    const words = new Map<number, { emitted: Uint32Array; seen: Uint32Array }>();
    const wordsOf = (year: number, bs: BoundarySet) => {
      const k = year * 2 + (bs === '2008' ? 0 : 1);
      let w = words.get(k);
      if (w === undefined) {
        const emitted = this.emitted.get(`${year}.${bs}`);
        w = emitted ? { emitted, seen: new Uint32Array(emitted.length) } : undefined;
        words.set(k, w ?? { emitted: EMPTY, seen: EMPTY });
      }
      return w && w.emitted.length ? w : undefined;
    };
    const touched: { year: number; bs: BoundarySet; idx: number; level: number }[] = [];
    for (const p of st.pending) {
      const a = out.get(p.exchangeId) ?? { count: 0, keys: [] };
      out.set(p.exchangeId, a);
      const units = unitsOf(g, p.bs);
      // The (year, slot) cells a change of this slice reaches, with their boundary sets.
      const targets = (reference: boolean) => {
        const list: {
          year: number;
          slot: number;
          bs: BoundarySet;
          w: { emitted: Uint32Array; seen: Uint32Array };
        }[] = [];
        for (const y of reference ? st.years.filter((y) => y >= p.year) : [p.year])
          for (const slot of reference ? ALL : ANCESTOR_SLOTS[p.slot]!) {
            const kbs = slotBoundarySet(y, slot);
            if (kbs !== p.bs && p.bs !== '2008') continue;
            const w = wordsOf(y, kbs);
            if (w) list.push({ year: y, slot, bs: kbs, w });
          }
        return list;
      };
      const plain = targets(false);
      let reference: ReturnType<typeof targets> | undefined;
      for (const packed of p.cells) {
        const unit = packed >> 5;
        const m = packed & 31;
        const mask = KPI_MASK_OF_MEASURE[m]!;
        const list = MEASURE_DEFS[m]!.time === 'reference' ? (reference ??= targets(true)) : plain;
        for (const t of list) {
          if (t.bs === p.bs)
            for (let x = unit; x >= 0; x = units.parent[x]!) this.reach(t, x, mask, touched, g);
          else this.reach(t, g.province2025, mask, touched, g);
        }
      }
      // Coarsest areas first, then by period and area code, then KPI.
      touched.sort(
        (x, y) =>
          y.level - x.level ||
          x.year - y.year ||
          (x.bs < y.bs ? -1 : x.bs > y.bs ? 1 : 0) ||
          x.idx - y.idx,
      );
      for (const t of touched) {
        const w = wordsOf(t.year, t.bs)!;
        let bits = w.seen[t.idx]!;
        w.seen[t.idx] = 0;
        const ul = unitsOf(g, t.bs);
        const u = Math.floor(t.idx / SLOTS);
        const slot = t.idx % SLOTS;
        for (let k = 0; bits !== 0; k++, bits >>>= 1) {
          if ((bits & 1) === 0) continue;
          a.count++;
          if (a.keys.length < ATTRIBUTED_KEYS)
            a.keys.push(`${KPI_CODES[k]}|${ul.codes[u]}|${periodCode(t.year, slot)}`);
        }
      }
      touched.length = 0;
    }
    return out;
  }

  private reach(
    t: {
      year: number;
      slot: number;
      bs: BoundarySet;
      w: { emitted: Uint32Array; seen: Uint32Array };
    },
    u: number,
    mask: number,
    touched: { year: number; bs: BoundarySet; idx: number; level: number }[],
    g: GroupState['layout'],
  ): void {
    const idx = u * SLOTS + t.slot;
    const fresh = mask & t.w.emitted[idx]! & ~t.w.seen[idx]!;
    if (fresh === 0) return;
    if (t.w.seen[idx] === 0)
      touched.push({ year: t.year, bs: t.bs, idx, level: unitsOf(g, t.bs).level[u]! });
    t.w.seen[idx]! |= fresh;
  }
}

const EMPTY = new Uint32Array(0);
const ALL: readonly number[] = Array.from({ length: SLOTS }, (_, s) => s);

export function valueOf(
  def: KpiDef,
  numerator: number | null,
  denominator: number | null,
): number | null {
  if (numerator === null) return null;
  if (!def.denominator) return numerator;
  if (denominator === null || denominator === 0) return null;
  return (numerator / denominator) * def.scale;
}
