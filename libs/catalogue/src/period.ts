/**
 * Reporting periods of the contract: `YYYY`, `YYYY-H1|H2`, `YYYY-Q1..Q4`, `YYYY-MM`.
 * Pure functions over their string form; no dates leak out except the last day.
 */
export type PeriodKind = 'year' | 'half' | 'quarter' | 'month';

export interface Period {
  readonly code: string;
  readonly kind: PeriodKind;
  readonly year: number;
  /** 1-based index within the year: half 1..2, quarter 1..4, month 1..12, year 1. */
  readonly index: number;
}

const PERIOD_RE = /^(\d{4})(?:-(H[12]|Q[1-4]|0[1-9]|1[0-2]))?$/;

export function parsePeriod(code: string): Period | undefined {
  const m = PERIOD_RE.exec(code);
  if (!m) return undefined;
  const year = Number(m[1]);
  if (year < 1900 || year > 2999) return undefined;
  const part = m[2];
  if (part === undefined) return { code, kind: 'year', year, index: 1 };
  if (part.startsWith('H')) return { code, kind: 'half', year, index: Number(part[1]) };
  if (part.startsWith('Q')) return { code, kind: 'quarter', year, index: Number(part[1]) };
  return { code, kind: 'month', year, index: Number(part) };
}

export function mustParsePeriod(code: string): Period {
  const p = parsePeriod(code);
  if (!p) throw new Error(`not a period: ${code}`);
  return p;
}

/** First and last month (1..12) that the period covers. */
export function monthSpan(p: Period): [number, number] {
  switch (p.kind) {
    case 'year':
      return [1, 12];
    case 'half':
      return [p.index * 6 - 5, p.index * 6];
    case 'quarter':
      return [p.index * 3 - 2, p.index * 3];
    case 'month':
      return [p.index, p.index];
  }
}

/** The last day of the period, `YYYY-MM-DD`. */
export function lastDay(p: Period): string {
  const month = monthSpan(p)[1];
  const day = new Date(Date.UTC(p.year, month, 0)).getUTCDate();
  return `${p.year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** The directly enclosing period: month -> quarter -> half -> year -> none. */
export function parentPeriod(p: Period): Period | undefined {
  switch (p.kind) {
    case 'month':
      return mustParsePeriod(`${p.year}-Q${Math.ceil(p.index / 3)}`);
    case 'quarter':
      return mustParsePeriod(`${p.year}-H${Math.ceil(p.index / 2)}`);
    case 'half':
      return mustParsePeriod(`${p.year}`);
    case 'year':
      return undefined;
  }
}

/** The period and every period enclosing it, innermost first. */
export function selfAndAncestors(p: Period): Period[] {
  const out: Period[] = [p];
  for (let q = parentPeriod(p); q; q = parentPeriod(q)) out.push(q);
  return out;
}

/** The direct sub-periods, in time order: year -> halves -> quarters -> months. */
export function childPeriods(p: Period): Period[] {
  switch (p.kind) {
    case 'year':
      return [1, 2].map((i) => mustParsePeriod(`${p.year}-H${i}`));
    case 'half':
      return [1, 2].map((i) => mustParsePeriod(`${p.year}-Q${p.index * 2 - 2 + i}`));
    case 'quarter':
      return [1, 2, 3].map((i) =>
        mustParsePeriod(`${p.year}-${String(p.index * 3 - 3 + i).padStart(2, '0')}`),
      );
    case 'month':
      return [];
  }
}

/** Every period `p` is built from, at every depth, each before its own sub-periods. */
export function subPeriods(p: Period): Period[] {
  return childPeriods(p).flatMap((c) => [c, ...subPeriods(c)]);
}

/** The period `n` periods of the same kind after `p` (before it, for a negative `n`). */
export function shiftPeriod(p: Period, n: number): string {
  const perYear = { year: 1, half: 2, quarter: 4, month: 12 }[p.kind];
  const i = p.year * perYear + (p.index - 1) + n;
  const year = Math.floor(i / perYear);
  const index = (i % perYear) + 1;
  switch (p.kind) {
    case 'year':
      return String(year);
    case 'half':
      return `${year}-H${index}`;
    case 'quarter':
      return `${year}-Q${index}`;
    case 'month':
      return `${year}-${String(index).padStart(2, '0')}`;
  }
}

/** True when `inner` lies within `outer` (a period contains itself). */
export function contains(outer: Period, inner: Period): boolean {
  if (outer.year !== inner.year) return false;
  const [os, oe] = monthSpan(outer);
  const [is, ie] = monthSpan(inner);
  return os <= is && ie <= oe;
}
