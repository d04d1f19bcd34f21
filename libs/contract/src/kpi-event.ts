import {
  type Attainment,
  attainment,
  type FeedStatus,
  type InputRef,
  type PlanTarget,
} from '@app/catalogue';
import type { Approval, KpiFigure, PendingFigure } from './approval.js';

export const KPI_EVENT_SCHEMA = 'lgsp.kpi.v1';

/** The `basis` of a re-based event (contract v1.1): figures over the 2025 boundaries. */
export const REBASED_BASIS = 'rebased-2025';

/** A unit: a code within its boundary set (codes were reused in 2025). */
export interface AreaRef {
  readonly areaSet: '2008' | '2025';
  readonly area: string;
}

/**
 * A KPI event on `lgsp.kpi.v1` (contract v1): a key, its figure (`KpiFigure`: value,
 * numerator, denominator, denominatorPeriod, status, completeness, note, yearToDate) and more.
 */
export interface KpiEvent extends KpiFigure {
  readonly schema: typeof KPI_EVENT_SCHEMA;
  readonly eventId: string;
  readonly kpi: string;
  readonly area: string;
  /** The boundary set `area` is a code of (contract v1.1): `(areaSet, area)` names a unit. */
  readonly areaSet: '2008' | '2025';
  /** Re-based history only (`lgsp.kpi.rebased.v1`): `rebased-2025`, and the old units used. */
  readonly basis?: typeof REBASED_BASIS;
  readonly rebasedFrom?: readonly AreaRef[];
  readonly areaName: string;
  readonly period: string;
  readonly unit: string;
  readonly revision: number;
  readonly computedAt: string;
  /**
   * The approval of the key's province and period (issue 27), once it was ever moved; absent:
   * open, never submitted. Approved: `value` and the figure are the official ones.
   */
  readonly approval?: Approval;
  /** Approved keys only: a later computation, held until the period is approved again. */
  readonly pending?: PendingFigure;
  readonly inputs: InputRef[];
  /** The plan target that applies, and how the figure stands against it (additive). */
  readonly target?: Attainment;
}

/** The record key of a KPI event: `KPI|AREA|PERIOD`. */
export const kpiEventKey = (k: { kpi: string; area: string; period: string }): string =>
  `${k.kpi}|${k.area}|${k.period}`;

export type { FeedStatus };

/** A KPI key's revision, as the aggregator writes it (and `toKpiEvent` makes its event). */
export interface KpiRevision {
  readonly kpi: string;
  readonly area: string;
  readonly period: string;
  readonly bs: '2008' | '2025';
  /** Re-based history: the 2008 provinces the figure is computed over. */
  readonly rebasedFrom?: readonly string[];
  readonly year: number;
  readonly areaName: string;
  readonly unit: string;
  readonly value: number | null;
  readonly numerator: number | null;
  readonly denominator: number | null;
  readonly denominatorPeriod: string | null;
  readonly status: 'final' | 'provisional';
  readonly completeness: { readonly expected: string[]; readonly reported: string[] };
  readonly inputs: readonly unknown[];
  readonly note: string | null;
  readonly yearToDate: number | null;
  readonly revision: number;
  readonly eventId: string;
  readonly computedAt: string;
}

/**
 * Where `inputs` begins in a serialised event. `serializeKpiEvent` writes it after every
 * field a group's load reads, and the text can only be that key (inside a JSON string every
 * `"` is escaped): the database reads events up to it, half their bytes. A test holds the
 * serialiser to it.
 */
export const KPI_EVENT_INPUTS_AT = ',"inputs":[';

/**
 * An event's text up to `KPI_EVENT_INPUTS_AT`, closed into JSON: it ends inside the event
 * (after `computedAt`, a string); a payload without `inputs` comes whole, with its `}`.
 */
export const kpiEventHead = (head: string): string => (head.endsWith('}') ? head : `${head}}`);

/**
 * The one mapping from a stored KPI revision to the contract's event: the aggregator
 * serialises it once into the change log, the relay publishes those bytes and the api serves
 * them, so the topic and the API cannot drift apart.
 */
export function toKpiEvent(row: KpiRevision, target?: PlanTarget): KpiEvent {
  return withTarget(
    {
      schema: KPI_EVENT_SCHEMA,
      eventId: row.eventId,
      kpi: row.kpi,
      area: row.area,
      areaSet: row.bs,
      ...(row.rebasedFrom
        ? { basis: REBASED_BASIS, rebasedFrom: rebasedFromRefs(row.rebasedFrom) }
        : {}),
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

const rebasedRefs = new WeakMap<readonly string[], AreaRef[]>();
/** The old units of a re-based figure, as the event lists them (one array per list). */
function rebasedFromRefs(codes: readonly string[]): AreaRef[] {
  let refs = rebasedRefs.get(codes);
  if (!refs) rebasedRefs.set(codes, (refs = codes.map((area) => ({ areaSet: '2008', area }))));
  return refs;
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
export function serializeKpiEvent(row: KpiRevision, target?: PlanTarget): string {
  let name = names.get(row.areaName);
  if (name === undefined) names.set(row.areaName, (name = JSON.stringify(row.areaName)));
  let inputs = '';
  for (let i = 0; i < row.inputs.length; i++)
    inputs += (i ? ',' : '') + json(row.inputs[i] as object);
  return (
    `{"schema":"${KPI_EVENT_SCHEMA}","eventId":${JSON.stringify(row.eventId)},` +
    `"kpi":${JSON.stringify(row.kpi)},"area":${JSON.stringify(row.area)},"areaSet":"${row.bs}",` +
    (row.rebasedFrom
      ? `"basis":"${REBASED_BASIS}","rebasedFrom":${json(rebasedFromRefs(row.rebasedFrom))},`
      : '') +
    `"areaName":${name},` +
    `"period":${JSON.stringify(row.period)},"value":${num(row.value)},` +
    `"unit":${JSON.stringify(row.unit)},"numerator":${num(row.numerator)},` +
    `"denominator":${num(row.denominator)},` +
    `"denominatorPeriod":${row.denominatorPeriod === null ? 'null' : JSON.stringify(row.denominatorPeriod)},` +
    `"status":"${row.status}","completeness":${json(row.completeness)},` +
    `"revision":${row.revision},"computedAt":${JSON.stringify(row.computedAt)}` +
    `${KPI_EVENT_INPUTS_AT}${inputs}]` +
    (row.note ? `,"note":${JSON.stringify(row.note)}` : '') +
    (row.yearToDate !== null ? `,"yearToDate":${num(row.yearToDate)}` : '') +
    (target ? `,"target":${JSON.stringify(attainment(target, row.value, row.yearToDate))}` : '') +
    '}'
  );
}
