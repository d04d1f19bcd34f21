import {
  type AdminUnits,
  attainment,
  type PlanTarget,
  type KpiComputation,
  type KpiKey,
  KPIS,
  mustParsePeriod,
} from '@app/catalogue';
import { KPI_EVENT_SCHEMA, type KpiEvent } from '@app/contract';
import type { StoredKpi } from '@app/database';
import { randomUUID } from 'node:crypto';

/** The stored row of a KPI's next revision. */
export function nextRevision(
  key: KpiKey,
  computed: KpiComputation,
  previous: StoredKpi | undefined,
  units: AdminUnits,
  now: Date,
): StoredKpi {
  return {
    kpi: key.kpi,
    area: key.area,
    period: key.period,
    bs: key.bs,
    year: mustParsePeriod(key.period).year,
    areaName: units.get(key.bs, key.area)?.name ?? key.area,
    unit: KPIS[key.kpi]!.unit,
    value: computed.value,
    numerator: computed.numerator,
    denominator: computed.denominator,
    denominatorPeriod: computed.denominatorPeriod,
    status: computed.status,
    completeness: computed.completeness,
    inputs: computed.inputs,
    note: computed.note ?? null,
    yearToDate: computed.yearToDate ?? null,
    revision: (previous?.revision ?? 0) + 1,
    eventId: randomUUID(),
    computedAt: now.toISOString(),
  };
}

/** The contract's KPI event for a stored revision, with the plan target that applies. */
export function toKpiEvent(row: StoredKpi, target?: PlanTarget): KpiEvent {
  return {
    schema: KPI_EVENT_SCHEMA,
    eventId: row.eventId,
    kpi: row.kpi,
    area: row.area,
    areaName: row.areaName,
    period: row.period,
    value: row.value,
    unit: row.unit,
    numerator: row.numerator,
    denominator: row.denominator,
    denominatorPeriod: row.denominatorPeriod,
    status: row.status,
    completeness: row.completeness,
    revision: row.revision,
    computedAt: row.computedAt,
    inputs: row.inputs as KpiEvent['inputs'],
    ...(row.note ? { note: row.note } : {}),
    ...(row.yearToDate !== null ? { yearToDate: row.yearToDate } : {}),
    ...(target ? { target: attainment(target, row.value, row.yearToDate) } : {}),
  };
}
