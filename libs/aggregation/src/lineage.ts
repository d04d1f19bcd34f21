/**
 * Lineage: the observations a key's value was computed from, found by walking the same
 * resolutions down to the reports they came from.
 */
import type { BoundarySet, InputRef, KpiDef, Operand } from '@app/catalogue';
import {
  type Block,
  type GroupState,
  MEASURE_CODES,
  MEASURE_DEFS,
  MEASURE_INDEX,
  QUALIFIERS,
  cellOf,
} from './group-state.js';
import { type Dense, HOW_AREAS, HOW_LEAF, HOW_NONE, HOW_TIME, type Resolutions } from './dense.js';
import { inputFeed, inputMeasure, inputQualifier, packInput } from './keys.js';
import { CHILD_SLOTS } from './slots.js';

export class Lineage {
  private readonly inputRefs = new Map<number, { key: string; ref: InputRef }>();

  constructor(
    private readonly state: GroupState,
    private readonly res: Resolutions,
  ) {}

  /** The inputs of a KPI at (year, unit, slot), in a stable order. */
  inputs(def: KpiDef, year: number, bs: BoundarySet, u: number, s: number): InputRef[] {
    const used = new Set<number>();
    this.collect(def.numerator, year, bs, u, s, used);
    if (def.denominator) this.collect(def.denominator, year, bs, u, s, used);
    const inputs = [...used].map((code) => this.inputRef(code));
    inputs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return inputs.map((i) => i.ref);
  }

  /** An input of lineage (see `packInput`), with its sort key. */
  private inputRef(code: number): { key: string; ref: InputRef } {
    let r = this.inputRefs.get(code);
    if (!r) {
      const st = this.state;
      const f = st.feeds[inputFeed(code)]!;
      const q = QUALIFIERS[inputQualifier(code)];
      const measure = MEASURE_CODES[inputMeasure(code)]!;
      const source = st.sources[f.source]!;
      r = {
        key: `${source}\u0000${f.feedId}\u0000${measure}\u0000${q ?? ''}`,
        ref: { source, feedId: f.feedId, measure, ...(q ? { qualifier: q } : {}) },
      };
      this.inputRefs.set(code, r);
    }
    return r;
  }

  private collect(
    op: Operand,
    year: number,
    bs: BoundarySet,
    u: number,
    s: number,
    /** Every observation used (see `packInput`). */
    out: Set<number>,
  ): void {
    const m = MEASURE_INDEX.get(op.measure)!;
    const def = MEASURE_DEFS[m]!;
    const add = (block: Block, cell: number): void =>
      void out.add(packInput(block.feed[cell]!, block.qual[cell]!, m));
    if (def.time === 'none') {
      const w = this.res.winner(m, year, bs, u, s);
      if (w) add(w.block, w.cell);
      return;
    }
    if (def.time === 'reference') {
      const w = this.res.reference(m, year, bs, u, s);
      for (let i = 0; i < w.count; i++) {
        const { d, u: pu } = w.picks[i]!;
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
        walk(pu);
      }
      return;
    }
    for (const src of this.res.sources(m, year)) {
      const d = this.res.seriesDense(m, src, year, s);
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
          const kd = this.res.seriesDense(m, src, d.year, kids[ki]!);
          const ku = this.res.mapUnit(d.bs, u, kd.bs);
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
}
