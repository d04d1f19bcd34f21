/**
 * Plan targets: what a provincial plan commits to, and how far a KPI is from it. Pure.
 */
import { type AdminUnits, type BoundarySet, boundarySetOf } from './admin-units.js';
import { KPIS, MEASURES } from './catalogue.js';
import { lastDay, mustParsePeriod, parsePeriod } from './period.js';

export type Comparison = 'at_least' | 'at_most' | 'exactly';

/** A target as a plan writes it. `unit` is what the document wrote next to the number. */
export interface PlanTargetInput {
  readonly kpi: string;
  readonly period: string;
  readonly value: number;
  readonly unit?: 'percent' | 'per_100_inhabitants' | 'mbit_per_s' | 'vnd';
  readonly comparison?: Comparison;
  readonly note?: string;
}

export interface PlanInput {
  readonly planId: string;
  readonly issuingBody: string;
  readonly documentNumber: string;
  /** `YYYY-MM-DD`: decides which units its area codes name (2008 or 2025 lists). */
  readonly issuedOn: string;
  readonly area: string;
  readonly targets: readonly PlanTargetInput[];
}

/** A target ready to store, attached to the unit the plan meant. */
export interface PlanTarget {
  readonly planId: string;
  readonly issuingBody: string;
  readonly documentNumber: string;
  readonly bs: BoundarySet;
  readonly area: string;
  readonly kpi: string;
  readonly targetPeriod: string;
  readonly targetValue: number;
  readonly comparison: Comparison;
  readonly note: string | null;
}

export interface PlanLoad {
  readonly targets: PlanTarget[];
  readonly warnings: string[];
  readonly errors: string[];
}

/**
 * Checks a plan and turns it into targets. A plan's area code names the unit valid on the day
 * it was issued: a target of a unit that no longer exists stays attached to that unit.
 * "Per 100 inhabitants" targets written as "%" are read as per 100, with a warning.
 */
export function normalisePlan(plan: PlanInput, units: AdminUnits): PlanLoad {
  const warnings: string[] = [];
  const errors: string[] = [];
  const targets: PlanTarget[] = [];
  const issued = /^\d{4}-\d{2}-\d{2}$/.test(plan.issuedOn) ? plan.issuedOn : undefined;
  if (!issued) errors.push(`${plan.planId}: issuedOn must be YYYY-MM-DD`);
  const bs: BoundarySet = issued && issued < '2025-07-01' ? '2008' : '2025';
  const unit = units.get(bs, plan.area);
  if (!unit) errors.push(`${plan.planId}: area ${plan.area} is not a unit of the ${bs} lists`);
  const beyondReform = new Set<string>();
  for (const [i, t] of plan.targets.entries()) {
    const where = `${plan.planId} targets[${i}] ${t.kpi}`;
    const def = KPIS[t.kpi];
    const period = parsePeriod(t.period);
    if (!def) {
      errors.push(`${where}: unknown KPI`);
      continue;
    }
    if (!period) {
      errors.push(`${where}: period must be YYYY, YYYY-H1|H2, YYYY-Q1..Q4 or YYYY-MM`);
      continue;
    }
    if (!Number.isFinite(t.value) || t.value < 0) {
      errors.push(`${where}: value must be a finite number, at least 0`);
      continue;
    }
    if (t.unit && t.unit !== def.unit) {
      if (def.unit === 'per_100_inhabitants' && t.unit === 'percent')
        warnings.push(
          `${where}: "${t.value} %" read as ${t.value} per 100 inhabitants (a subscription density is not a percentage)`,
        );
      else {
        errors.push(`${where}: unit ${t.unit} does not fit the KPI's unit ${def.unit}`);
        continue;
      }
    }
    if (unit && bs === '2008' && boundarySetOf(period) === '2025') beyondReform.add(t.period);
    targets.push({
      planId: plan.planId,
      issuingBody: plan.issuingBody,
      documentNumber: plan.documentNumber,
      bs,
      area: plan.area,
      kpi: t.kpi,
      targetPeriod: t.period,
      targetValue: t.value,
      comparison: t.comparison ?? 'at_least',
      note: t.note ?? null,
    });
  }
  if (unit && beyondReform.size > 0)
    warnings.push(
      `${plan.planId}: ${unit.name} (${plan.area}) is a unit of the 63-province lists (plan issued ${plan.issuedOn}); its targets for ${[...beyondReform].join(', ')} stay attached to it and apply to its figures up to 2025-06-30, not to the unit that now has the code`,
    );
  return { targets: errors.length ? [] : targets, warnings, errors };
}

/**
 * The target that applies to a KPI key: same KPI and unit (boundary set and code), the
 * nearest target period that ends on or after the KPI's period.
 */
export function applicableTarget(
  targets: readonly PlanTarget[],
  key: { kpi: string; bs: string; area: string; period: string },
): PlanTarget | undefined {
  const end = lastDay(mustParsePeriod(key.period));
  return targets
    .filter(
      (t) =>
        t.kpi === key.kpi &&
        t.bs === key.bs &&
        t.area === key.area &&
        lastDay(mustParsePeriod(t.targetPeriod)) >= end,
    )
    .sort((a, b) =>
      lastDay(mustParsePeriod(a.targetPeriod)).localeCompare(
        lastDay(mustParsePeriod(b.targetPeriod)),
      ),
    )[0];
}

export interface Attainment {
  readonly planId: string;
  readonly issuingBody: string;
  readonly documentNumber: string;
  readonly targetPeriod: string;
  readonly target: number;
  readonly comparison: Comparison;
  /** What is measured against the target: the level (stocks, ratios) or the year to date (flows). */
  readonly basis: 'level' | 'year_to_date';
  readonly actual: number | null;
  /** actual / target; null without a value or with a zero target. */
  readonly ratio: number | null;
  readonly met: boolean | null;
}

/** How a KPI stands against its target. `yearToDate` is required for flow KPIs. */
export function attainment(
  target: PlanTarget,
  value: number | null,
  yearToDate?: number | null,
): Attainment {
  const flow = MEASURES[KPIS[target.kpi]!.numerator.measure]!.time === 'flow';
  const actual = flow ? (yearToDate ?? null) : value;
  const met =
    actual === null
      ? null
      : target.comparison === 'at_least'
        ? actual >= target.targetValue
        : target.comparison === 'at_most'
          ? actual <= target.targetValue
          : actual === target.targetValue;
  return {
    planId: target.planId,
    issuingBody: target.issuingBody,
    documentNumber: target.documentNumber,
    targetPeriod: target.targetPeriod,
    target: target.targetValue,
    comparison: target.comparison,
    basis: flow ? 'year_to_date' : 'level',
    actual,
    ratio: actual === null || target.targetValue === 0 ? null : actual / target.targetValue,
    met,
  };
}
