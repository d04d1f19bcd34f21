import type { GroupLayouts } from '@app/aggregation';
import type { AdminUnits } from '@app/catalogue';

/** The unit lists and their aggregation groups, loaded once per process. */
export interface AggregatorContext {
  readonly units: AdminUnits;
  readonly layouts: GroupLayouts;
}

export const AGGREGATOR_CONTEXT = Symbol('AGGREGATOR_CONTEXT');
