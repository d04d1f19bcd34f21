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

/** Serialised fragments that repeat across events: shared input refs, completeness, names. */
const fragments = new WeakMap<object, string>();
const names = new Map<string, string>();
const json = (o: object): string => {
  let s = fragments.get(o);
  if (s === undefined) fragments.set(o, (s = JSON.stringify(o)));
  return s;
};
const num = (n: number | null): string => (n === null ? 'null' : JSON.stringify(n));

/**
 * `JSON.stringify(toKpiEvent(row, target))`, byte for byte (a test holds it to that), built
 * without the intermediate event object and with the fragments that repeat across events
 * (input refs, completeness, area names) serialised once: the aggregator serialises every
 * event it publishes, millions in a backfill.
 */
export function serializeKpiEvent(row: StoredKpi, target?: PlanTarget): string {
  let name = names.get(row.areaName);
  if (name === undefined) names.set(row.areaName, (name = JSON.stringify(row.areaName)));
  let inputs = '';
  for (let i = 0; i < row.inputs.length; i++)
    inputs += (i ? ',' : '') + json(row.inputs[i] as object);
  return (
    `{"schema":"${KPI_EVENT_SCHEMA}","eventId":${JSON.stringify(row.eventId)},` +
    `"kpi":${JSON.stringify(row.kpi)},"area":${JSON.stringify(row.area)},"areaName":${name},` +
    `"period":${JSON.stringify(row.period)},"value":${num(row.value)},` +
    `"unit":${JSON.stringify(row.unit)},"numerator":${num(row.numerator)},` +
    `"denominator":${num(row.denominator)},` +
    `"denominatorPeriod":${row.denominatorPeriod === null ? 'null' : JSON.stringify(row.denominatorPeriod)},` +
    `"status":"${row.status}","completeness":${json(row.completeness)},` +
    `"revision":${row.revision},"computedAt":${JSON.stringify(row.computedAt)},` +
    `"inputs":[${inputs}]` +
    (row.note ? `,"note":${JSON.stringify(row.note)}` : '') +
    (row.yearToDate !== null ? `,"yearToDate":${num(row.yearToDate)}` : '') +
    (target ? `,"target":${JSON.stringify(attainment(target, row.value, row.yearToDate))}` : '') +
    '}'
  );
}
