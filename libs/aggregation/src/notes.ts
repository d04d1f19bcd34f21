import type { KpiDef } from '@app/catalogue';

/**
 * Why a value is missing, or where its denominator came from: the `note` of an event written by the engine
 * (evaluate.ts) and the reference (reference.ts) alike.
 */
export function kpiNote(
  def: KpiDef,
  area: string,
  period: string,
  rebased: boolean,
  numerator: number | null,
  denominator: number | null,
  den:
    | {
        stale: boolean;
        fromPeriod: string | undefined;
        oldUnits: readonly string[] | undefined;
        lacking: readonly string[] | undefined;
      }
    | undefined,
): string | undefined {
  if (numerator === null) return `no data for ${def.numerator.measure}`;
  if (!def.denominator || !den) return undefined;
  const measure = def.denominator.measure;
  if (denominator === null)
    return (
      `no ${measure} for ${area} in or before ${period}` +
      (den.lacking ? `: none for old unit(s) ${den.lacking.join(', ')}` : '')
    );
  if (denominator === 0) return `${measure} is zero`;
  if (!rebased && den.oldUnits && den.oldUnits.length > 1)
    return `denominator ${measure}: the sum of old units ${den.oldUnits.join(', ')}, taken from ${den.fromPeriod}`;
  if (den.stale) return `denominator ${measure} taken from ${den.fromPeriod}`;
  return undefined;
}

/** A 2025 commune formed in part from split old communes: no re-based figures (contract v1.1). */
export const splitNote = (split: readonly string[]): string =>
  `not re-based: formed in part from split commune(s) ${split.join('; ')}`;
