import type { SourceRegistration } from './catalogue.js';
import { lastDay, mustParsePeriod, parsePeriod, type Period } from './period.js';

export interface SourceLateness {
  /** The latest period the source owes by `today`: the last one whose due date has passed. */
  readonly due: string;
  readonly dueBy: string;
  readonly late: boolean;
}

function periodOf(
  kind: SourceRegistration['reports']['every'],
  year: number,
  month: number,
): Period {
  const code =
    kind === 'year'
      ? `${year}`
      : kind === 'half'
        ? `${year}-H${Math.ceil(month / 6)}`
        : kind === 'quarter'
          ? `${year}-Q${Math.ceil(month / 3)}`
          : `${year}-${String(month).padStart(2, '0')}`;
  return mustParsePeriod(code);
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * Whether a source is late: the most recent period it owes (ended, and `dueDays` past its end)
 * ends after the latest period it has reported. Pure; `today` is `YYYY-MM-DD`.
 */
export function lateness(
  reports: SourceRegistration['reports'],
  lastReported: string | null,
  today: string,
): SourceLateness {
  let year = Number(today.slice(0, 4));
  let month = Number(today.slice(5, 7));
  for (let guard = 0; guard < 40; guard++) {
    const p = periodOf(reports.every, year, month);
    const dueBy = addDays(lastDay(p), reports.dueDays);
    if (dueBy < today) {
      const last = lastReported ? parsePeriod(lastReported) : undefined;
      return { due: p.code, dueBy, late: !last || lastDay(last) < lastDay(p) };
    }
    month -= 1;
    if (month === 0) {
      month = 12;
      year -= 1;
    }
  }
  throw new Error('unreachable: a period is always due within 40 months');
}
