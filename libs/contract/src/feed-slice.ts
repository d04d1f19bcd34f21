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

/**
 * Which partition of `lgsp.feed-slices.v1` carries each group's slices, for a topic of
 * `partitions` partitions: groups largest first (by their units in both boundary sets), each
 * on the partition with the least so far (ties: the lowest), so partitions, and the aggregator
 * instances that own them, get even shares of the work and the memory. Groups differ tenfold
 * (the merged Hồ Chí Minh City group holds three 2008 provinces), and murmur2 of the group code
 * put the 34 groups on 11 of 12 partitions with no regard to size. The ingest's producer places
 * slices with it and the aggregator tells its own groups with it: both must use this function.
 */
export function slicePlacement(units: AdminUnits, partitions: number): (group: string) => number {
  const weight = new Map<string, number>();
  for (const bs of ['2008', '2025'] as const)
    for (const u of units.all(bs)) {
      const g = units.groupOf(bs, u.code);
      if (g !== undefined) weight.set(g, (weight.get(g) ?? 0) + 1);
    }
  const load = new Array<number>(partitions).fill(0);
  const placed = new Map<string, number>();
  for (const [g, w] of [...weight].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) {
    const p = load.indexOf(Math.min(...load));
    placed.set(g, p);
    load[p]! += w;
  }
  return (group) => {
    const p = placed.get(group);
    if (p === undefined) throw new Error(`no aggregation group ${group} in the admin units`);
    return p;
  };
}
