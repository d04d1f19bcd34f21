/**
 * The vocabulary of a computed KPI: observations as they come in, the key of a figure, and
 * what its computation says (value, inputs, completeness). The engine (libs/aggregation)
 * computes them; the contract publishes them.
 */
import type { BoundarySet } from './admin-units.js';

export type FeedStatus = 'actual' | 'estimate' | 'provisional';
export type Qualifier = '>' | '>=' | '<' | '<=' | '~';

/** One current (winning, not retracted) observation. */
export interface Observation {
  readonly source: string;
  readonly measure: string;
  readonly area: string;
  readonly period: string;
  readonly value?: number;
  readonly items?: readonly string[];
  readonly status: FeedStatus;
  readonly feedId: string;
  /** RFC 3339 / ISO instant; orders competing reports of reference measures. */
  readonly sentAt: string;
  readonly qualifier?: Qualifier;
}

export interface KpiKey {
  readonly kpi: string;
  readonly bs: BoundarySet;
  readonly area: string;
  readonly period: string;
}

export interface InputRef {
  readonly source: string;
  readonly feedId: string;
  readonly measure: string;
  readonly qualifier?: Qualifier;
}

export interface KpiComputation {
  /** False when the numerator has no data at all: the key does not (or no longer) exist. */
  readonly hasData: boolean;
  readonly value: number | null;
  readonly numerator: number | null;
  readonly denominator: number | null;
  readonly denominatorPeriod: string | null;
  readonly status: 'final' | 'provisional';
  readonly completeness: { readonly expected: string[]; readonly reported: string[] };
  readonly inputs: InputRef[];
  readonly note?: string;
  /** Flow KPIs only: the value from January to the end of the period (for annual targets). */
  readonly yearToDate?: number | null;
}
