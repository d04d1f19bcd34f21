import { type AdminUnits, boundarySetOf, mustParsePeriod } from '@app/catalogue';
import type { AcceptedFeed, AcceptedObservation } from './accepted-feed.js';

export const FEED_SLICE_SCHEMA = 'lgsp.feed-slice.v1';

/**
 * An accepted feed's observations within one aggregation group (a 2025 province and the 2008
 * provinces that went into it), on the internal topic `lgsp.feed-slices.v1`, keyed by the
 * group: everything one group's KPIs read arrives on one partition, in order.
 */
export interface FeedSlice extends Omit<AcceptedFeed, 'schema'> {
  readonly schema: typeof FEED_SLICE_SCHEMA;
  /** The 2025 province code of the group. */
  readonly group: string;
  /** This slice is `part` of `parts` (1-based), in group order. */
  readonly part: number;
  readonly parts: number;
}

/** Splits an accepted feed by aggregation group, observations in feed order. */
export function sliceFeed(feed: AcceptedFeed, units: AdminUnits): FeedSlice[] {
  const bs = boundarySetOf(mustParsePeriod(feed.period));
  const byGroup = new Map<string, AcceptedObservation[]>();
  for (const o of feed.observations) {
    const group = units.groupOf(bs, o.area);
    if (group === undefined)
      throw new Error(`area ${o.area} of accepted feed ${feed.feedId} is in no group`);
    const list = byGroup.get(group);
    if (list) list.push(o);
    else byGroup.set(group, [o]);
  }
  const groups = [...byGroup.keys()].sort();
  const { schema: _schema, observations: _all, ...rest } = feed;
  return groups.map((group, i) => ({
    schema: FEED_SLICE_SCHEMA,
    ...rest,
    group,
    part: i + 1,
    parts: groups.length,
    observations: byGroup.get(group)!,
  }));
}
