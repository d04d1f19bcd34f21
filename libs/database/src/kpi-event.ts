import { attainment, type PlanTarget } from '@app/catalogue';
import { KPI_EVENT_SCHEMA, type KpiEvent } from '@app/contract';
import type { StoredKpi } from './aggregate-store.js';

/**
 * The one mapping from a stored KPI revision to the contract's event: the aggregator publishes
 * it, the api serves it, so the topic and the API cannot drift apart.
 */
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
