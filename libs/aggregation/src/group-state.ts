/**
 * The current observations of one aggregation group, in typed arrays, with the KPI keys their
 * changes make dirty and the last published state of every key. Pure: plain data in, plain
 * data out; the aggregator keeps one per group it owns and persists what it applies.
 *
 * Observations are kept per (measure, source, year, boundary set, period kind) in dense
 * blocks over the group's units: a value (NaN: none), the winning feed, the qualifier and,
 * for item sets, the set's offset in the group's pool. A retraction keeps its feed as the winner with no value,
 * so that an older feed arriving late cannot bring the value back.
 */
import {
  type FeedStatus,
  KPIS,
  MEASURES,
  type MeasureDef,
  type Qualifier,
  type BoundarySet,
  kpiMeasures,
  mustParsePeriod,
  parsePeriod,
} from '@app/catalogue';
import type { SliceInput } from '@app/contract';
import { packCell, seriesKey } from './keys.js';
import { bsIndex, type GroupLayout, LEVEL, type UnitLayout, unitsOf } from './layout.js';
import { SetPool } from './set-pool.js';
import { ALL_SLOTS, ANCESTOR_SLOTS, SLOTS, slotBoundarySet, slotKind, slotOf } from './slots.js';

export const KPI_CODES: readonly string[] = Object.keys(KPIS);
export const MEASURE_CODES: readonly string[] = Object.keys(MEASURES);
export const MEASURE_DEFS: readonly MeasureDef[] = MEASURE_CODES.map((m) => MEASURES[m]!);
export const MEASURE_INDEX: ReadonlyMap<string, number> = new Map(
  MEASURE_CODES.map((m, i) => [m, i]),
);
if (KPI_CODES.length > 30 || MEASURE_CODES.length > 31)
  throw new Error('the engine packs KPIs and measures in 32-bit masks');

/** Bit k set: KPI k reads the measure. */
export const KPI_MASK_OF_MEASURE: readonly number[] = MEASURE_CODES.map((m) =>
  KPI_CODES.reduce((mask, k, i) => (kpiMeasures(KPIS[k]!).includes(m) ? mask | (1 << i) : mask), 0),
);

export const QUALIFIERS: readonly (Qualifier | undefined)[] = [
  undefined,
  '>',
  '>=',
  '<',
  '<=',
  '~',
];
const QUALIFIER_CODE = new Map(QUALIFIERS.map((q, i) => [q, i]));
export const STATUSES: readonly FeedStatus[] = ['actual', 'estimate', 'provisional'];
const STATUS_CODE = new Map(STATUSES.map((s, i) => [s, i]));

const KIND_SLOTS = { month: 12, quarter: 4, half: 2, year: 1 } as const;
const KIND_INDEX = { month: 0, quarter: 1, half: 2, year: 3 } as const;
const KIND_OFFSET = [0, 12, 16, 18];

/** A feed as the state remembers it: the winner of the cells it last wrote. */
export interface FeedRef {
  readonly source: number;
  readonly feedId: string;
  readonly sentAt: number;
  readonly status: number;
}

/** The observations of one (measure, source, year, boundary set, period kind). */
export class Block {
  /** NaN: no current value (never reported, or retracted). */
  readonly values: Float64Array;
  /** The winning feed of each cell, -1 when none ever reported it. */
  readonly feed: Int32Array;
  readonly qual: Uint8Array;
  /** Item sets: offsets into the group's pool (item ids); -1: none. */
  readonly sets: Int32Array | undefined;

  constructor(
    readonly units: number,
    readonly slots: number,
    isSet: boolean,
  ) {
    const n = units * slots;
    this.values = new Float64Array(isSet ? 0 : n).fill(NaN);
    this.feed = new Int32Array(n).fill(-1);
    this.qual = new Uint8Array(n);
    this.sets = isSet ? new Int32Array(n).fill(-1) : undefined;
  }

  get bytes(): number {
    return (
      this.values.byteLength +
      this.feed.byteLength +
      this.qual.byteLength +
      (this.sets?.byteLength ?? 0)
    );
  }

  present(i: number): boolean {
    return (
      this.feed[i]! >= 0 && (this.sets ? this.sets[i]! >= 0 : this.values[i] === this.values[i])
    );
  }
}

/** One (measure, source, year): blocks per boundary set and kind, and which cells have values. */
export class SeriesYear {
  private readonly blocks: (Block | undefined)[] = new Array<Block | undefined>(8);
  /** Per boundary set and unit: bit s set when the unit has a current value for slot s. */
  readonly direct: [Int32Array | undefined, Int32Array | undefined] = [undefined, undefined];

  constructor(
    readonly measure: number,
    readonly source: number,
    readonly year: number,
    private readonly layout: GroupLayout,
  ) {}

  block(bs: BoundarySet, slot: number): Block | undefined {
    return this.blocks[bsIndex(bs) * 4 + KIND_INDEX[slotKind(slot)]];
  }

  ensureBlock(bs: BoundarySet, slot: number): Block {
    const i = bsIndex(bs) * 4 + KIND_INDEX[slotKind(slot)];
    let b = this.blocks[i];
    if (!b) {
      b = new Block(
        unitsOf(this.layout, bs).reportable,
        KIND_SLOTS[slotKind(slot)],
        MEASURE_DEFS[this.measure]!.kind === 'item_set',
      );
      this.blocks[i] = b;
    }
    return b;
  }

  /** The bytes of its blocks and presence masks. */
  get bytes(): number {
    let n = 0;
    for (const b of this.blocks) n += b?.bytes ?? 0;
    for (const d of this.direct) n += d?.byteLength ?? 0;
    return n;
  }

  directMask(bs: BoundarySet): Int32Array {
    const i = bsIndex(bs);
    let d = this.direct[i];
    if (!d) this.direct[i] = d = new Int32Array(unitsOf(this.layout, bs).size);
    return d;
  }
}

/** Where a slot's cell of a unit lives in its block. */
export const cellOf = (b: Block, unit: number, slot: number): number =>
  unit * b.slots + slot - KIND_OFFSET[KIND_INDEX[slotKind(slot)]]!;

/** The last published state of every key of one (year, boundary set, KPI). */
export class KpiBlock {
  readonly numerator: Float64Array;
  readonly denominator: Float64Array;
  /** 0: never published. */
  readonly revision: Int32Array;
  readonly final: Uint8Array;
  readonly completeness: Int32Array;

  constructor(units: number) {
    const n = units * SLOTS;
    this.numerator = new Float64Array(n).fill(NaN);
    this.denominator = new Float64Array(n).fill(NaN);
    this.revision = new Int32Array(n);
    this.final = new Uint8Array(n);
    this.completeness = new Int32Array(n);
  }

  get bytes(): number {
    return (
      this.numerator.byteLength +
      this.denominator.byteLength +
      this.revision.byteLength +
      this.final.byteLength +
      this.completeness.byteLength
    );
  }
}

/** The published state of a key, as stored (for loading a group). */
export interface PublishedState {
  readonly kpi: string;
  readonly bs: BoundarySet;
  readonly area: string;
  readonly period: string;
  readonly numerator: number | null;
  readonly denominator: number | null;
  readonly status: 'final' | 'provisional';
  readonly completeness: {
    readonly expected: readonly string[];
    readonly reported: readonly string[];
  };
  readonly revision: number;
  /** Re-based history of the 2025 province `area` (`bs` 2025, a period before the reform). */
  readonly rebased?: boolean;
}

/** A slice applied since the last flush: the cells it changed, for the audit log. */
export interface PendingSlice {
  readonly exchangeId: string;
  readonly year: number;
  readonly slot: number;
  readonly bs: BoundarySet;
  /** unit * 32 + measure, for each cell the slice won. */
  readonly cells: Int32Array;
}

/** The bytes of a group's state, by what they hold (typed arrays only; `GroupState.heldBytes`). */
export interface HeldBytes {
  /** Current observations: values, winning feeds, qualifiers, set offsets, presence masks. */
  observations: number;
  /** The item-set pool, as allocated (it grows by doubling). */
  itemSets: number;
  /** The last published state of every key: numerator, denominator, revision, status, completeness. */
  published: number;
  /** Dirty-key marks. */
  dirty: number;
  /** The cells each slice won since the last flush, for the audit log. */
  pending: number;
}

export const noHeldBytes = (): HeldBytes => ({
  observations: 0,
  itemSets: 0,
  published: 0,
  dirty: 0,
  pending: 0,
});

/** Per year and boundary set: one word per (unit, slot), bit k for KPI k. */
type DirtyYear = [Uint32Array | undefined, Uint32Array | undefined];

export class GroupState {
  readonly feeds: FeedRef[] = [];
  readonly sources: string[] = [];
  private readonly sourceIndex = new Map<string, number>();
  private readonly itemIds = new Map<string, number>();
  /** Every item set applied (corrections and retractions leave theirs behind). */
  readonly items = new SetPool();
  private readonly scratch: number[] = [];
  /** measure * 1024 + source -> year -> series. */
  private readonly series = new Map<number, Map<number, SeriesYear>>();
  /** Years with any observation, ascending. */
  years: number[] = [];
  /** Per measure: the earliest year with an observation (reference fall-back stops there). */
  readonly minYear: number[] = MEASURE_CODES.map(() => Infinity);
  private readonly dirty = new Map<number, DirtyYear>();
  private readonly published = new Map<
    number,
    [(KpiBlock | undefined)[], (KpiBlock | undefined)[]]
  >();
  private readonly completenessIds = new Map<string, number>();
  readonly completenessList: { expected: string[]; reported: string[] }[] = [];
  pending: PendingSlice[] = [];
  /** Observations currently held (winners, retractions included). */
  cellCount = 0;
  dirtySince: number | undefined;

  constructor(readonly layout: GroupLayout) {
    this.internCompleteness([], []);
  }

  get code(): string {
    return this.layout.code;
  }

  get isDirty(): boolean {
    return this.dirtySince !== undefined;
  }

  source(id: string): number {
    let i = this.sourceIndex.get(id);
    if (i === undefined) {
      i = this.sources.push(id) - 1;
      this.sourceIndex.set(id, i);
    }
    return i;
  }

  /** Applies a slice, last writer by (sentAt, feedId) winning per cell; returns the cells won. */
  apply(slice: SliceInput, markDirty: boolean, now = Date.now()): number {
    const p = mustParsePeriod(slice.period);
    const year = p.year;
    const slot = slotOf(p);
    const bs = slotBoundarySet(year, slot);
    const units = unitsOf(this.layout, bs);
    const src = this.source(slice.source);
    const status = STATUS_CODE.get(slice.status);
    if (status === undefined) throw new Error(`unknown status ${slice.status}`);
    const ref = this.feeds.length;
    this.feeds.push({
      source: src,
      feedId: slice.feedId,
      sentAt: Date.parse(slice.sentAt),
      status,
    });
    if (!this.years.includes(year)) this.years = [...this.years, year].sort((a, b) => a - b);
    const won: number[] = [];
    for (const o of slice.observations) {
      const m = MEASURE_INDEX.get(o.measure);
      const unit = units.indexOf.get(o.area);
      if (m === undefined || unit === undefined || units.level[unit] === LEVEL.virtual)
        throw new Error(`${o.measure} for ${o.area} is not in group ${this.code} (${bs})`);
      const sy = this.seriesYear(m, src, year, true);
      const block = sy.ensureBlock(bs, slot);
      const cell = cellOf(block, unit, slot);
      const prev = block.feed[cell]!;
      if (prev >= 0 && !this.newer(ref, prev)) continue;
      if (prev < 0) this.cellCount++;
      block.feed[cell] = ref;
      block.qual[cell] = QUALIFIER_CODE.get(o.qualifier) ?? 0;
      let present: boolean;
      if (block.sets) {
        present = o.items != null;
        block.sets[cell] = present ? this.addSet(o.items!) : -1;
      } else {
        present = o.value != null;
        block.values[cell] = present ? o.value! : NaN;
      }
      const mask = sy.directMask(bs);
      mask[unit] = present ? mask[unit]! | (1 << slot) : mask[unit]! & ~(1 << slot);
      if (year < this.minYear[m]!) this.minYear[m] = year;
      if (markDirty) {
        this.markChanged(m, year, bs, slot, unit, units, now);
        won.push(packCell(unit, m));
      }
    }
    if (markDirty && slice.exchangeId !== undefined && won.length > 0)
      this.pending.push({
        exchangeId: slice.exchangeId,
        year,
        slot,
        bs,
        cells: Int32Array.from(won),
      });
    return won.length;
  }

  /** Feed `a` is later than `b`: by sentAt, then feedId (the last writer wins a cell). */
  newer(a: number, b: number): boolean {
    const fa = this.feeds[a]!;
    const fb = this.feeds[b]!;
    return fa.sentAt !== fb.sentAt ? fa.sentAt > fb.sentAt : fa.feedId > fb.feedId;
  }

  private addSet(items: readonly string[]): number {
    const ids = this.scratch;
    ids.length = 0;
    for (const item of items) {
      let id = this.itemIds.get(item);
      if (id === undefined) {
        id = this.itemIds.size;
        this.itemIds.set(item, id);
      }
      ids.push(id);
    }
    return this.items.add(ids);
  }

  get itemCount(): number {
    return this.itemIds.size;
  }

  seriesYear(measure: number, source: number, year: number, create: true): SeriesYear;
  seriesYear(measure: number, source: number, year: number, create?: false): SeriesYear | undefined;
  seriesYear(
    measure: number,
    source: number,
    year: number,
    create = false,
  ): SeriesYear | undefined {
    const k = seriesKey(measure, source);
    let byYear = this.series.get(k);
    if (!byYear) {
      if (!create) return undefined;
      this.series.set(k, (byYear = new Map()));
    }
    let sy = byYear.get(year);
    if (!sy && create) byYear.set(year, (sy = new SeriesYear(measure, source, year, this.layout)));
    return sy;
  }

  /** The sources with observations of a measure in a year. */
  sourcesOf(measure: number, year: number): number[] {
    const out: number[] = [];
    for (let s = 0; s < this.sources.length; s++)
      if (this.series.get(seriesKey(measure, s))?.has(year)) out.push(s);
    return out;
  }

  /**
   * What the state's typed arrays take, added to `into`: the bulk of a group's memory (its
   * maps of feeds, sources and item codes are small beside them, and not counted).
   */
  heldBytes(into: HeldBytes = noHeldBytes()): HeldBytes {
    for (const byYear of this.series.values())
      for (const sy of byYear.values()) into.observations += sy.bytes;
    into.itemSets += this.items.data.byteLength;
    for (const pair of this.published.values())
      for (const list of pair) for (const b of list) into.published += b?.bytes ?? 0;
    for (const pair of this.dirty.values()) for (const w of pair) into.dirty += w?.byteLength ?? 0;
    for (const p of this.pending) into.pending += p.cells.byteLength;
    return into;
  }

  // ---- dirty keys ----

  dirtyWords(year: number, bs: BoundarySet, create: true): Uint32Array;
  dirtyWords(year: number, bs: BoundarySet, create?: false): Uint32Array | undefined;
  dirtyWords(year: number, bs: BoundarySet, create = false): Uint32Array | undefined {
    let d = this.dirty.get(year);
    if (!d) {
      if (!create) return undefined;
      this.dirty.set(year, (d = [undefined, undefined]));
    }
    const i = bsIndex(bs);
    let w = d[i];
    if (!w && create) d[i] = w = new Uint32Array(unitsOf(this.layout, bs).size * SLOTS);
    return w;
  }

  dirtyYears(): number[] {
    return [...this.dirty.keys()].sort((a, b) => a - b);
  }

  clearDirty(): void {
    this.dirty.clear();
    this.dirtySince = undefined;
  }

  /**
   * Marks the keys a changed cell can move: the unit and its enclosing units, the period and
   * its enclosing periods (the year 2025 at the 2025 province for a 2008-era half), every KPI
   * reading the measure; for a reference measure also every later period of those units.
   */
  private markChanged(
    m: number,
    year: number,
    bs: BoundarySet,
    slot: number,
    unit: number,
    units: UnitLayout,
    now: number,
  ): void {
    const mask = KPI_MASK_OF_MEASURE[m]!;
    if (mask === 0) return;
    this.dirtySince ??= now;
    const reference = MEASURE_DEFS[m]!.time === 'reference';
    for (const y of reference ? this.years.filter((y) => y >= year) : [year]) {
      const slots = reference ? ALL_SLOTS : ANCESTOR_SLOTS[slot]!;
      for (const s of slots) this.markAt(y, s, bs, unit, units, mask);
    }
  }

  private markAt(
    year: number,
    slot: number,
    bs: BoundarySet,
    unit: number,
    units: UnitLayout,
    mask: number,
  ): void {
    const keyBs = slotBoundarySet(year, slot);
    if (keyBs === bs) {
      const words = this.dirtyWords(year, bs, true);
      for (let u = unit; u >= 0; u = units.parent[u]!) words[u * SLOTS + slot]! |= mask;
      // Re-based history: every old province is read by its 2025 province's, every old
      // commune by those of the 2025 communes it went into.
      if (bs === '2008') {
        words[this.layout.virtual2008 * SLOTS + slot]! |= mask;
        const into = this.layout.rebasedInto;
        const vs = into[unit]; // only communes went into 2025 communes
        if (vs) for (const v of vs) words[v * SLOTS + slot]! |= mask;
      }
      // A 2008 province is read by the 2025 province whenever a 2025-era key reads 2008 data.
      return;
    }
    if (bs === '2008') {
      const words = this.dirtyWords(year, '2025', true);
      words[this.layout.province2025 * SLOTS + slot]! |= mask;
    }
  }

  // ---- published state ----

  kpiBlock(year: number, bs: BoundarySet, kpi: number, create: true): KpiBlock;
  kpiBlock(year: number, bs: BoundarySet, kpi: number, create?: false): KpiBlock | undefined;
  kpiBlock(year: number, bs: BoundarySet, kpi: number, create = false): KpiBlock | undefined {
    let y = this.published.get(year);
    if (!y) {
      if (!create) return undefined;
      this.published.set(year, (y = [[], []]));
    }
    const list = y[bsIndex(bs)];
    let b = list[kpi];
    if (!b && create) list[kpi] = b = new KpiBlock(unitsOf(this.layout, bs).size);
    return b;
  }

  internCompleteness(expected: readonly string[], reported: readonly string[]): number {
    const key = `${expected.join(',')}|${reported.join(',')}`;
    let id = this.completenessIds.get(key);
    if (id === undefined) {
      id = this.completenessList.push({ expected: [...expected], reported: [...reported] }) - 1;
      this.completenessIds.set(key, id);
    }
    return id;
  }

  /** Loads what was last published for keys of this group (a group loaded from storage). */
  loadPublished(rows: Iterable<PublishedState>): void {
    for (const r of rows) {
      const kpi = KPI_CODES.indexOf(r.kpi);
      const p = mustParsePeriod(r.period);
      // Re-based history is kept at the virtual node (layout.ts) of the 2008 lists.
      const bs = r.rebased ? '2008' : r.bs;
      const unit = r.rebased
        ? this.layout.u2008.indexOf.get(`=${r.area}`)
        : unitsOf(this.layout, r.bs).indexOf.get(r.area);
      if (kpi < 0 || unit === undefined) continue;
      const b = this.kpiBlock(p.year, bs, kpi, true);
      const i = unit * SLOTS + slotOf(p);
      b.numerator[i] = r.numerator ?? NaN;
      b.denominator[i] = r.denominator ?? NaN;
      b.final[i] = r.status === 'final' ? 1 : 0;
      b.completeness[i] = this.internCompleteness(r.completeness.expected, r.completeness.reported);
      b.revision[i] = r.revision;
    }
  }
}

/**
 * Why a slice cannot be applied to a group (undefined: it can). The ingest only forwards
 * valid feeds, so this is a guard against records the hub did not make, or a mismatch of
 * unit lists between services: such a slice goes to the DLQ, never into the stored state.
 */
export function sliceProblem(layout: GroupLayout, slice: SliceInput): string | undefined {
  const p = parsePeriod(slice.period);
  if (!p) return `period "${slice.period}" is not a period`;
  if (!STATUS_CODE.has(slice.status)) return `status "${slice.status}" is unknown`;
  if (!Number.isFinite(Date.parse(slice.sentAt))) return `sentAt "${slice.sentAt}" is not a date`;
  const bs = slotBoundarySet(p.year, slotOf(p));
  const units = unitsOf(layout, bs);
  for (const o of slice.observations) {
    const m = MEASURE_INDEX.get(o.measure);
    if (m === undefined) return `measure "${o.measure}" is unknown`;
    const u = units.indexOf.get(o.area);
    if (u === undefined || units.level[u] === LEVEL.virtual)
      return `area "${o.area}" is not a unit of group ${layout.code} in the ${bs} lists`;
    const isSet = MEASURE_DEFS[m]!.kind === 'item_set';
    if (
      isSet
        ? o.items !== null && !Array.isArray(o.items)
        : o.value !== null && typeof o.value !== 'number'
    )
      return `${o.measure} for ${o.area} has no ${isSet ? 'items' : 'value'}`;
  }
  return undefined;
}
