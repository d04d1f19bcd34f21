import type { KpiChange } from '@app/aggregation';
import { type AdminUnits, KPIS } from '@app/catalogue';
import type { KpiRevision } from '@app/contract';
import { randomUUID } from 'node:crypto';

/** The stored row of a KPI's next revision. */
export function storedRevision(change: KpiChange, units: AdminUnits, now: Date): KpiRevision {
  const c = change.computation;
  return {
    kpi: change.kpi,
    area: change.area,
    period: change.period,
    bs: change.bs,
    ...(change.rebasedFrom ? { rebasedFrom: change.rebasedFrom } : {}),
    year: change.year,
    areaName: units.get(change.bs, change.area)?.name ?? change.area,
    unit: KPIS[change.kpi]!.unit,
    value: c.value,
    numerator: c.numerator,
    denominator: c.denominator,
    denominatorPeriod: c.denominatorPeriod,
    status: c.status,
    completeness: c.completeness,
    inputs: c.inputs,
    note: c.note ?? null,
    yearToDate: c.yearToDate ?? null,
    revision: change.revision,
    eventId: randomUUID(),
    computedAt: now.toISOString(),
  };
}
