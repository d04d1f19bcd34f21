/**
 * Attribution, for the audit log: which of the keys a flush emitted each exchange's
 * observations reach.
 */
import type { BoundarySet } from '@app/catalogue';
import { kpiEventKey } from '@app/contract';
import { type GroupState, KPI_CODES, KPI_MASK_OF_MEASURE, MEASURE_DEFS } from './group-state.js';
import { cellMeasure, cellUnit } from './keys.js';
import { bsIndex, unitsOf } from './layout.js';
import { ALL_SLOTS, ANCESTOR_SLOTS, SLOTS, periodCode, slotBoundarySet } from './slots.js';

/** What one exchange's slices changed in this flush, for the audit log. */
export interface Attribution {
  count: number;
  /** Coarsest areas first, at most `ATTRIBUTED_KEYS`. */
  keys: string[];
}
export const ATTRIBUTED_KEYS = 100;

const EMPTY = new Uint32Array(0);

/** The keys one flush emitted, per (year, boundary set): a KPI bit mask per cell. */
export class EmittedKeys {
  private readonly emitted = new Map<string, Uint32Array>();

  constructor(private readonly state: GroupState) {}

  /** Key `k` at cell `idx` of (year, bs) was emitted by this flush. */
  mark(year: number, bs: BoundarySet, idx: number, k: number): void {
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
  attribute(): Map<string, Attribution> {
    const out = new Map<string, Attribution>();
    const st = this.state;
    const g = st.layout;
    /** Per (year, boundary set): what this flush emitted, and what the current slice reached. */
    const words = new Map<number, { emitted: Uint32Array; seen: Uint32Array }>();
    const wordsOf = (year: number, bs: BoundarySet) => {
      const k = year * 2 + bsIndex(bs);
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
          for (const slot of reference ? ALL_SLOTS : ANCESTOR_SLOTS[p.slot]!) {
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
        const unit = cellUnit(packed);
        const m = cellMeasure(packed);
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
            a.keys.push(
              kpiEventKey({
                kpi: KPI_CODES[k]!,
                area: ul.codes[u]!,
                period: periodCode(t.year, slot),
              }),
            );
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
