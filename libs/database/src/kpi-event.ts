import { attainment, type PlanTarget } from '@app/catalogue';
import { KPI_EVENT_SCHEMA, type KpiEvent } from '@app/contract';
import type { StoredKpi } from './kpi-store.js';

/**
 * The one mapping from a stored KPI revision to the contract's event: the aggregator
 * serialises it once into the change log, the relay publishes those bytes and the api serves
 * them, so the topic and the API cannot drift apart.
 */
export function toKpiEvent(row: StoredKpi, target?: PlanTarget): KpiEvent {
  return withTarget(
    {
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
    },
    target,
  );
}

/** An event with the plan target that applies (events carry the one known when written). */
export function withTarget(event: KpiEvent, target: PlanTarget | undefined): KpiEvent {
  const { target: _known, ...rest } = event;
  return target
    ? { ...rest, target: attainment(target, event.value, event.yearToDate ?? null) }
    : rest;
}
