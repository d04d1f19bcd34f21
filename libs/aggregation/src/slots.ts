/**
 * The 19 periods of a year as small integers ("slots"), so that the engine can keep a year of
 * one area in typed arrays: months 0..11, quarters 12..15, halves 16..17, the year 18.
 */
import { type BoundarySet, type Period, REFORM_DATE, lastDay, parsePeriod } from '@app/catalogue';

export const SLOTS = 19;
export const YEAR_SLOT = 18;
export type SlotKind = 'month' | 'quarter' | 'half' | 'year';

/** The slot of a period within its year. */
export function slotOf(p: Period): number {
  switch (p.kind) {
    case 'month':
      return p.index - 1;
    case 'quarter':
      return 11 + p.index;
    case 'half':
      return 15 + p.index;
    case 'year':
      return YEAR_SLOT;
  }
}

export function slotKind(slot: number): SlotKind {
  return slot < 12 ? 'month' : slot < 16 ? 'quarter' : slot < 18 ? 'half' : 'year';
}

export function periodCode(year: number, slot: number): string {
  if (slot < 12) return `${year}-${String(slot + 1).padStart(2, '0')}`;
  if (slot < 16) return `${year}-Q${slot - 11}`;
  if (slot < 18) return `${year}-H${slot - 15}`;
  return String(year);
}

export function periodOf(year: number, slot: number): Period {
  return parsePeriod(periodCode(year, slot))!;
}

/** The directly contained slots, in time order (none for a month). */
export const CHILD_SLOTS: readonly (readonly number[])[] = Array.from({ length: SLOTS }, (_, s) => {
  if (s < 12) return [];
  if (s < 16) return [0, 1, 2].map((i) => (s - 12) * 3 + i);
  if (s < 18) return [0, 1].map((i) => 12 + (s - 16) * 2 + i);
  return [16, 17];
});

/** The slot and every slot enclosing it, innermost first. */
export const ANCESTOR_SLOTS: readonly (readonly number[])[] = Array.from(
  { length: SLOTS },
  (_, s) => {
    const out = [s];
    let cur = s;
    for (;;) {
      const parent = CHILD_SLOTS.findIndex((kids) => kids.includes(cur));
      if (parent < 0) return out;
      out.push(parent);
      cur = parent;
    }
  },
);

function withinMask(s: number): number {
  let mask = 1 << s;
  for (const c of CHILD_SLOTS[s]!) mask |= withinMask(c);
  return mask;
}
/**
 * Bit i is set when slot i lies within the slot (itself included). Slot numbers grow from
 * months to the year, so ascending order visits every slot after the slots it contains.
 */
export const WITHIN_MASK: readonly number[] = Array.from({ length: SLOTS }, (_, s) =>
  withinMask(s),
);

/**
 * The boundary set a period is coded in: the one valid on its last day. Only 2025 mixes
 * them: January to June (and Q1, Q2, H1) in the 2008 units, the rest in the 2025 units.
 */
export function slotBoundarySet(year: number, slot: number): BoundarySet {
  if (year < 2025) return '2008';
  if (year > 2025) return '2025';
  return lastDay(periodOf(year, slot)) < REFORM_DATE ? '2008' : '2025';
}

/** Every slot, in order. */
export const ALL_SLOTS: readonly number[] = Array.from({ length: SLOTS }, (_, s) => s);

/** The year 2025 spans the reform: it is the one period whose parts are in two boundary sets. */
export const spansReform = (year: number, slot: number): boolean =>
  year === 2025 && slot === YEAR_SLOT;

/**
 * The standard slots that tile January to the end of a slot, largest first (the year to date
 * of a flow KPI). Mirrors `yearToDateTiling` of the reference (reference.ts).
 */
export const YEAR_TO_DATE_SLOTS: readonly (readonly number[])[] = Array.from(
  { length: SLOTS },
  (_, s) => {
    const end = s < 12 ? s + 1 : s < 16 ? (s - 11) * 3 : s < 18 ? (s - 15) * 6 : 12;
    if (end === 12) return [YEAR_SLOT];
    const out: number[] = [];
    for (let m = 1; m <= end;) {
      if (m === 1 && end >= 6) {
        out.push(16);
        m = 7;
      } else if (m % 3 === 1 && m + 2 <= end) {
        out.push(12 + (m + 2) / 3 - 1);
        m += 3;
      } else {
        out.push(m - 1);
        m++;
      }
    }
    return out;
  },
);
