import type { Attainment, FeedStatus, InputRef } from '@app/catalogue';

export const KPI_EVENT_SCHEMA = 'lgsp.kpi.v1';

/** A KPI event on `lgsp.kpi.v1` (contract v1). */
export interface KpiEvent {
  readonly schema: typeof KPI_EVENT_SCHEMA;
  readonly eventId: string;
  readonly kpi: string;
  readonly area: string;
  readonly areaName: string;
  readonly period: string;
  readonly value: number | null;
  readonly unit: string;
  readonly numerator: number | null;
  readonly denominator: number | null;
  readonly denominatorPeriod: string | null;
  readonly status: 'final' | 'provisional';
  readonly completeness: { readonly expected: string[]; readonly reported: string[] };
  readonly revision: number;
  readonly computedAt: string;
  readonly inputs: InputRef[];
  readonly note?: string;
  /** Flow KPIs: January to the end of the period (beyond contract v1; additive). */
  readonly yearToDate?: number;
  /** The plan target that applies, and how the figure stands against it (additive). */
  readonly target?: Attainment;
}

/** The record key of a KPI event: `KPI|AREA|PERIOD`. */
export const kpiEventKey = (k: { kpi: string; area: string; period: string }): string =>
  `${k.kpi}|${k.area}|${k.period}`;

export type { FeedStatus };
