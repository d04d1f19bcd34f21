/**
 * Recomputes a group's dirty KPI keys from its state, with the semantics of `computeKpi`
 * (reference.ts, which the tests hold this to): per source, a direct report
 * stands, else a roll-up over time (stock: the latest sub-period; flow: the sum) when the
 * source reported the unit for sub-periods, else over sub-areas; sources then combine (sum,
 * union, shared); ratios are recomputed from the aggregated numerator and denominator.
 *
 * Resolutions are computed densely (dense.ts), one (measure, source, year, period) at a time
 * for every unit of the group, bottom-up, and shared by every key that reads them; lineage
 * (lineage.ts) and attribution (attribution.ts) walk them afterwards. Only keys whose
 * value, numerator, denominator, status or completeness changed come out, with the next
 * revision; `commit()` records them as published once the caller has stored them.
 */
import {
  type BoundarySet,
  type KpiComputation,
  KPIS,
  type KpiDef,
  type Operand,
  type SourceRegistry,
} from '@app/catalogue';
import { type Attribution, EmittedKeys } from './attribution.js';
import { HOW_NONE, Resolutions } from './dense.js';
import { type GroupState, KPI_CODES, MEASURE_DEFS, MEASURE_INDEX } from './group-state.js';
import { bsIndex, LEVEL, type UnitLayout, unitsOf } from './layout.js';
import { Lineage } from './lineage.js';
import { kpiNote, splitNote } from './notes.js';
import { SLOTS, YEAR_TO_DATE_SLOTS, periodCode, slotBoundarySet } from './slots.js';

interface OperandResult {
  amount: number | undefined;
  contributors: number[];
  uncovered: boolean;
  actual: boolean;
  stale: boolean;
  fromPeriod: string | undefined;
  /** Reference operands across the reform: the old provinces read, and those with no value. */
  oldUnits: readonly string[] | undefined;
  lacking: string[] | undefined;
}

/** A key whose published figures change, with its next revision. */
export interface KpiChange {
  readonly kpi: string;
  readonly bs: BoundarySet;
  readonly area: string;
  /** 0 commune, 1 district, 2 province. */
  readonly level: number;
  /**
   * Re-based history (contract v1.1): a 2025 province's figure for a period before the
   * reform, computed over the 2008 provinces listed here (`bs` is then 2025).
   */
  readonly rebasedFrom?: readonly string[];
  readonly period: string;
  readonly year: number;
  readonly revision: number;
  readonly computation: KpiComputation;
}

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
    oldUnits: undefined,
    lacking: undefined,
  };
}

/** Every expected source contributed (one that never reported in the group did not). */
function covers(contributors: readonly number[], expected: readonly number[]): boolean {
  for (const e of expected) if (e < 0 || !contributors.includes(e)) return false;
  return true;
}

const sameNumber = (a: number, b: number): boolean => a === b || (a !== a && b !== b);

export class GroupFlush {
  private readonly res: Resolutions;
  private readonly lineage: Lineage;
  private readonly emitted: EmittedKeys;
  private readonly expectations = new Map<string, Expectation>();
  private readonly completenessCache = new Map<number, number>();
  /** Operand results, reused per key. */
  private readonly numR = operandResult();
  private readonly denR = operandResult();
  private readonly tileR = operandResult();
  /** Published changes to record on commit: year, bs, kpi, index, revision, final, completeness. */
  private readonly log: number[] = [];
  private readonly logValues: number[] = [];
  changes = 0;
  evaluated = 0;

  constructor(
    private readonly state: GroupState,
    private readonly ctx: FlushContext,
  ) {
    this.res = new Resolutions(state);
    this.lineage = new Lineage(state, this.res);
    this.emitted = new EmittedKeys(state);
  }

  /** The changed keys, in chunks; every dirty key is evaluated once. */
  *chunks(size = 5_000): Generator<KpiChange[]> {
    let out: KpiChange[] = [];
    for (const year of this.state.dirtyYears()) {
      this.res.nextYear();
      for (const bs of ['2008', '2025'] as const) {
        const words = this.state.dirtyWords(year, bs);
        if (!words) continue;
        const units = unitsOf(this.state.layout, bs);
        for (let u = 0; u < units.size; u++)
          for (let s = 0; s < SLOTS; s++) {
            let mask = words[u * SLOTS + s]!;
            if (mask === 0) continue;
            // A key's period is coded in the boundary set of its last day. The virtual node's
            // keys (2008-era periods) are the 2025 province's re-based history.
            if (slotBoundarySet(year, s) !== bs) continue;
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
    this.res.clear();
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
    const st = this.state;
    const g = st.layout;
    // A virtual node's keys are a 2025 unit's re-based history; one formed in part from a
    // split old commune has none: its figures are null, and the note names the split commune.
    const rebased = units.level[u] === LEVEL.virtual ? g.rebased.get(u)! : undefined;
    const split = rebased !== undefined && rebased.split.length > 0;
    const hasData = num.amount !== undefined;
    if (split) {
      num.contributors.length = 0;
      if (den) den.contributors.length = 0;
    }
    const numerator = split ? null : (num.amount ?? null);
    const denominator = den && !split ? (den.amount ?? null) : null;

    const pub = st.kpiBlock(year, bs, k);
    const idx = u * SLOTS + s;
    const prevRevision = pub ? pub.revision[idx]! : 0;
    if (prevRevision === 0 && !hasData) return undefined;

    const area = rebased ? rebased.code : units.codes[u]!;
    const exp = rebased
      ? this.expectation(k, def, `=${rebased.code}`, rebased.provinces)
      : this.expectation(k, def, units.provinceCode[u]!);
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
    this.log.push(year, bsIndex(bs), k, idx, revision, final, comp);
    this.logValues.push(numerator ?? NaN, denominator ?? NaN);
    this.emitted.mark(year, bs, idx, k);
    this.changes++;

    const period = periodCode(year, s);
    const note = split
      ? splitNote(rebased.split)
      : kpiNote(def, area, period, rebased !== undefined, numerator, denominator, den);
    const flow =
      !def.denominator && MEASURE_DEFS[MEASURE_INDEX.get(def.numerator.measure)!]!.time === 'flow';
    let yearToDate: number | null | undefined;
    if (flow) {
      let any = false;
      let sum = 0;
      for (const t of YEAR_TO_DATE_SLOTS[s]!) {
        const tb = slotBoundarySet(year, t);
        const tu = this.res.mapUnit(bs, u, tb);
        if (tu < 0) continue;
        const a = this.operand(def.numerator, year, tb, tu, t, this.tileR).amount;
        if (a !== undefined) {
          any = true;
          sum += a;
        }
      }
      yearToDate = any ? sum : null;
    }

    return {
      kpi: code,
      bs: rebased ? '2025' : bs,
      area,
      level: rebased ? rebased.level : units.level[u]!,
      ...(rebased ? { rebasedFrom: rebased.from } : {}),
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
        inputs: this.lineage.inputs(def, year, bs, u, s),
        ...(note ? { note } : {}),
        ...(flow ? { yearToDate } : {}),
      },
    };
  }

  /**
   * Who is expected to report a KPI's inputs in a province (the registry, as now); for
   * re-based history, in any of the old provinces.
   */
  private expectation(
    k: number,
    def: KpiDef,
    where: string,
    provinces: readonly string[] = [where],
  ): Expectation {
    const key = `${k}|${where}`;
    let e = this.expectations.get(key);
    if (e) return e;
    const st = this.state;
    const local = (ids: readonly string[]): number[] => ids.map((id) => st.sources.indexOf(id));
    const expected = (measure: string): string[] =>
      [...new Set(provinces.flatMap((p) => this.ctx.registry.expectedFor(measure, p)))].sort();
    const num = expected(def.numerator.measure);
    const den = def.denominator ? expected(def.denominator.measure) : [];
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
    r.oldUnits = undefined;
    r.lacking = undefined;
    const m = MEASURE_INDEX.get(op.measure)!;
    const def = MEASURE_DEFS[m]!;
    if (def.time === 'reference') return this.reference(m, year, bs, u, s, r);
    if (def.time === 'none') return this.statistic(m, year, bs, u, s, r);
    const sources = this.res.sources(m, year);
    const dense = this.res.row(m, year, s);
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
    const { counts, touched } = this.res;
    for (let i = 0; i < sources.length; i++) {
      const d = dense[i]!;
      if (d.how[u] === HOW_NONE) continue;
      r.contributors.push(sources[i]!);
      if (!d.actual[u]) r.actual = false;
      const ref = d.sets![u]!;
      const data = this.res.setData(ref);
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

  /** A reference measure (see `Resolutions.reference`), into `r`. */
  private reference(
    m: number,
    year: number,
    bs: BoundarySet,
    u: number,
    s: number,
    r: OperandResult,
  ): OperandResult {
    const w = this.res.reference(m, year, bs, u, s);
    r.oldUnits = w.oldUnits;
    r.lacking = w.lacking.length ? [...w.lacking] : undefined;
    const n = w.count;
    if (n === 0) return r;
    let sum = 0;
    let stale = false;
    let actual = true;
    for (let i = 0; i < n; i++) {
      const p = w.picks[i]!;
      sum += p.d.val[p.u]!;
      if (p.year !== year) stale = true;
      if (p.d.actual[p.u] !== 1) actual = false;
    }
    r.amount = sum;
    r.stale = stale;
    r.actual = actual;
    r.fromPeriod = Resolutions.fromPeriod(w);
    if (!stale) {
      for (let i = 0; i < n; i++)
        this.res.mergedSources(w.picks[i]!.d, w.picks[i]!.u, r.contributors);
      if (n > 1) {
        const unique = [...new Set(r.contributors)].sort((a, b) => a - b);
        r.contributors.length = 0;
        r.contributors.push(...unique);
      }
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
    // Reported statistics (speeds) are not re-based (contract v1.1): a virtual node has none.
    const w = this.res.winner(m, year, bs, u, s);
    if (!w) return r;
    const f = this.state.feeds[w.block.feed[w.cell]!]!;
    r.amount = w.block.values[w.cell]!;
    r.contributors.push(f.source);
    r.actual = f.status === 0;
    return r;
  }

  /**
   * For each exchange applied since the last flush: how many of the changed keys its
   * observations reach, and the first of them. Call after `chunks()` is exhausted.
   */
  attribution(): Map<string, Attribution> {
    return this.emitted.attribute();
  }
}

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
