/**
 * Dense resolutions: one measure resolved for every unit of a boundary set at once, bottom-up
 * (a direct report, else a roll-up over time, else over sub-areas), per source or merged
 * across sources. A flush builds each at most once per year and every key reads them.
 */
import type { BoundarySet } from '@app/catalogue';
import {
  type Block,
  type GroupState,
  MEASURE_DEFS,
  type SeriesYear,
  cellOf,
} from './group-state.js';
import { measureYearKey, mergedKey, rowKey, seriesSlotKey } from './keys.js';
import { bsIndex, LEVEL, type UnitLayout, unitsOf } from './layout.js';
import { SetPool } from './set-pool.js';
import {
  ANCESTOR_SLOTS,
  CHILD_SLOTS,
  WITHIN_MASK,
  YEAR_SLOT,
  periodCode,
  slotBoundarySet,
  spansReform,
} from './slots.js';

/** How a unit's value was resolved. */
export const HOW_NONE = 0;
export const HOW_LEAF = 1;
export const HOW_TIME = 2;
export const HOW_AREAS = 3;

/** One measure's resolution for every unit of a boundary set, at one (year, slot). */
export interface Dense {
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

/** One reference value a key reads: a unit's merged resolution at one (year, slot). */
export interface RefPick {
  d: Dense;
  u: number;
  year: number;
  slot: number;
}

/**
 * Where a key's reference value comes from (`Resolutions.reference`): one pick, or, for a
 * 2025 province read across the reform, one per old province, summed.
 */
export interface RefWalk {
  /** `picks[0 .. count)`: the objects are reused from one walk to the next. */
  readonly picks: RefPick[];
  count: number;
  /** Across the reform: the 2008 units the unit was formed from, in code order. */
  oldUnits: readonly string[] | undefined;
  /** Across the reform: the old units with no value (the walk then has no picks). */
  readonly lacking: string[];
}

/** The resolutions of one flush of a group. */
export class Resolutions {
  /** This year's resolutions per (measure, source, slot); merged ones per (year, measure, slot). */
  private readonly dense = new Map<number, Dense>();
  private readonly merged = new Map<number, Dense>();
  private readonly rows = new Map<number, Dense[]>();
  private readonly sourcesCache = new Map<number, number[]>();
  /** Per item id, a count; `touched` lists the ids counted (both reset after each use). */
  readonly counts: Uint16Array;
  readonly touched: number[] = [];
  /** Sets made by this flush's unions (cleared with the resolutions, per year). */
  readonly pool = new SetPool();

  constructor(private readonly state: GroupState) {
    this.counts = new Uint16Array(Math.max(16, state.itemCount));
  }

  /** Forgets the resolutions of the year done (merged ones span years and stay). */
  nextYear(): void {
    this.dense.clear();
    this.rows.clear();
    this.pool.length = 0;
  }

  clear(): void {
    this.dense.clear();
    this.rows.clear();
    this.merged.clear();
  }

  /** The item set at `ref` (see `Dense.sets`): its array and the offset of its length. */
  setData(ref: number): Int32Array {
    return ref >= 0 ? this.state.items.data : this.pool.data;
  }

  /** The same unit seen from another boundary set: only the 2025 province has a 2008 view. */
  mapUnit(from: BoundarySet, u: number, to: BoundarySet): number {
    if (from === to) return u;
    const g = this.state.layout;
    return from === '2025' && u === g.province2025 ? g.virtual2008 : -1;
  }

  private readonly walk: RefWalk = { picks: [], count: 0, oldUnits: undefined, lacking: [] };

  private pick(d: Dense, u: number, year: number, slot: number): void {
    const w = this.walk;
    const p = w.picks[w.count];
    if (p) {
      p.d = d;
      p.u = u;
      p.year = year;
      p.slot = slot;
    } else w.picks.push({ d, u, year, slot });
    w.count++;
  }

  /**
   * A reference measure for a key at (year, slot) of unit u: the period's own value, else the
   * nearest enclosing period's, else the latest earlier year's. A value never crosses into
   * another unit (contract v1.1): where the walk of a 2025 province reaches the 2008 lists,
   * and for the province re-based (the virtual node), it takes each old province's latest
   * value and sums them when every one has one, else none. The walk is reused: read it
   * before the next call.
   */
  reference(m: number, year: number, bs: BoundarySet, u: number, s: number): RefWalk {
    const w = this.walk;
    w.count = 0;
    w.oldUnits = undefined;
    w.lacking.length = 0;
    const g = this.state.layout;
    if (bs === '2008' && g.u2008.level[u] === LEVEL.virtual)
      return this.oldUnitsFrom(m, year, s, 0, u);
    const slots = ANCESTOR_SLOTS[s]!;
    const n = slots.length + Math.max(0, year - this.state.minYear[m]!);
    for (let i = 0; i < n; i++) {
      const y = i < slots.length ? year : year - (i - slots.length + 1);
      const c = i < slots.length ? slots[i]! : YEAR_SLOT;
      if (slotBoundarySet(y, c) !== bs) {
        if (bs === '2025' && u === g.province2025)
          return this.oldUnitsFrom(m, year, s, i, g.virtual2008);
        continue;
      }
      const d = this.mergedDense(m, y, c);
      if (d.how[u] !== HOW_NONE) {
        this.pick(d, u, y, c);
        return w;
      }
    }
    return w;
  }

  /**
   * Each old unit's latest value (the children of virtual node v: old provinces, or the old
   * communes of a 2025 commune), from the walk's i0-th period on (see `reference`).
   */
  private oldUnitsFrom(m: number, year: number, s: number, i0: number, v: number): RefWalk {
    const w = this.walk;
    const units = this.state.layout.u2008;
    const slots = ANCESTOR_SLOTS[s]!;
    const n = slots.length + Math.max(0, year - this.state.minYear[m]!);
    const olds: string[] = [];
    for (let k = units.childStart[v]!; k < units.childStart[v + 1]!; k++) {
      const old = units.childList[k]!;
      olds.push(units.codes[old]!);
      let found = false;
      for (let i = i0; i < n && !found; i++) {
        const y = i < slots.length ? year : year - (i - slots.length + 1);
        const c = i < slots.length ? slots[i]! : YEAR_SLOT;
        if (slotBoundarySet(y, c) !== '2008') continue;
        const d = this.mergedDense(m, y, c);
        if (d.how[old] === HOW_NONE) continue;
        this.pick(d, old, y, c);
        found = true;
      }
      if (!found) w.lacking.push(units.codes[old]!);
    }
    if (w.lacking.length) w.count = 0;
    w.oldUnits = olds;
    return w;
  }

  /** The period a walk's value is from: its oldest pick's (the widest, within a year). */
  static fromPeriod(w: RefWalk): string | undefined {
    let best: RefPick | undefined;
    for (let i = 0; i < w.count; i++) {
      const p = w.picks[i]!;
      if (!best || p.year < best.year || (p.year === best.year && p.slot > best.slot)) best = p;
    }
    return best && periodCode(best.year, best.slot);
  }

  /** Every source's resolution of a measure at (year, slot), in the order of `sources`. */
  row(m: number, year: number, slot: number): Dense[] {
    const key = rowKey(m, slot);
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

  sources(m: number, year: number): number[] {
    const key = measureYearKey(m, year);
    let s = this.sourcesCache.get(key);
    if (!s) this.sourcesCache.set(key, (s = this.state.sourcesOf(m, year)));
    return s;
  }

  /** The latest current report across sources at exactly (unit, slot): merged series. */
  winner(
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
      // (no report is ever for a virtual node: they are past the block's units)
      if (!block || u >= block.units) continue;
      const cell = cellOf(block, u, s);
      if (!block.present(cell)) continue;
      if (!best || this.state.newer(block.feed[cell]!, best.block.feed[best.cell]!))
        best = { block, cell, at: i };
    }
    return best;
  }

  /** The sources a merged value at u comes from, sorted, into `out`. */
  mergedSources(d: Dense, u: number, out: number[]): void {
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

  /** One source's stock or flow at (year, slot), for every unit of the slot's boundary set. */
  seriesDense(m: number, src: number, year: number, slot: number): Dense {
    const key = seriesSlotKey(m, src, slot);
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
    const direct = sy.direct[bsIndex(bs)];
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
      // (a block holds the reportable units only: not the virtual nodes, which sort last)
      if (bFeed && u < block.units) {
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
  mergedDense(m: number, year: number, slot: number): Dense {
    const key = mergedKey(year, m, slot);
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
}
