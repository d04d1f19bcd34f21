import {
  type AdminUnits,
  boundarySetOf,
  type FeedStatus,
  mustParsePeriod,
  parsePeriod,
  type Qualifier,
} from '@app/catalogue';
import type { AcceptedFeed, AcceptedObservation } from './accepted-feed.js';
import {
  AREA_PATTERN,
  FEED_ID_PATTERN,
  FEED_STATUSES,
  MAX_OBSERVATIONS,
  QUALIFIERS,
} from './feed.dto.js';
import { parseJson } from './safe-json.js';

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

export type SliceRead = { ok: true; slice: FeedSlice } | { ok: false; problem: string };

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown, max: number): v is string =>
  typeof v === 'string' && v.length >= 1 && v.length <= max;

/**
 * Reads a slice record off `lgsp.feed-slices.v1`, checking every field it will be stored and
 * applied with. The ingest only writes valid slices, but anyone who reaches the broker can
 * write this topic too, and a slice is stored before it is applied: a malformed one must be
 * refused here, never reach the stored state that a restart replays. Never throws.
 */
export function readFeedSlice(text: string): SliceRead {
  const parsed = parseJson(text);
  if (!parsed.ok) return { ok: false, problem: `not JSON: ${parsed.message}` };
  const s = parsed.value;
  if (!isRecord(s) || s.schema !== FEED_SLICE_SCHEMA)
    return { ok: false, problem: `not a ${FEED_SLICE_SCHEMA} record` };
  const problem = sliceFieldProblem(s) ?? observationsProblem(s.observations);
  return problem ? { ok: false, problem } : { ok: true, slice: s as unknown as FeedSlice };
}

function sliceFieldProblem(s: Record<string, unknown>): string | undefined {
  if (!isText(s.source, 64)) return 'source is not a source id';
  if (typeof s.feedId !== 'string' || !FEED_ID_PATTERN.test(s.feedId)) return 'feedId is invalid';
  if (typeof s.sentAt !== 'string' || !Number.isFinite(Date.parse(s.sentAt)))
    return 'sentAt is not a date';
  if (typeof s.receivedAt !== 'string' || !Number.isFinite(Date.parse(s.receivedAt)))
    return 'receivedAt is not a date';
  if (typeof s.period !== 'string' || !parsePeriod(s.period)) return 'period is not a period';
  if (!(FEED_STATUSES as readonly unknown[]).includes(s.status)) return 'status is unknown';
  if (!isText(s.group, 8)) return 'group is not a province code';
  if (!Number.isInteger(s.part) || !Number.isInteger(s.parts))
    return 'part or parts is not a number';
  const o = s.origin;
  if (!isRecord(o) || !['kafka', 'http', 'replay'].includes(o.channel as string))
    return 'origin is not a channel';
  if (
    o.exchangeId !== undefined &&
    (typeof o.exchangeId !== 'string' || !/^[1-9]\d{0,17}$/.test(o.exchangeId))
  )
    return 'origin.exchangeId is not an exchange id';
  return undefined;
}

function observationsProblem(list: unknown): string | undefined {
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_OBSERVATIONS)
    return `observations is not a list of 1 to ${MAX_OBSERVATIONS}`;
  for (let i = 0; i < list.length; i++) {
    const o: unknown = list[i];
    const at = `observations[${i}]`;
    if (!isRecord(o) || typeof o.area !== 'string' || !AREA_PATTERN.test(o.area))
      return `${at} has no area code`;
    if (!isText(o.measure, 64)) return `${at} has no measure`;
    const hasValue = Object.prototype.hasOwnProperty.call(o, 'value');
    if (hasValue === Object.prototype.hasOwnProperty.call(o, 'items'))
      return `${at} has not exactly one of value or items`;
    if (
      hasValue &&
      o.value !== null &&
      !(typeof o.value === 'number' && Number.isFinite(o.value) && o.value >= 0)
    )
      return `${at}.value is not a finite number at least 0`;
    if (!hasValue && o.items !== null) {
      if (!Array.isArray(o.items) || !o.items.every((x) => isText(x, 64)))
        return `${at}.items is not a list of codes`;
      if (new Set(o.items).size !== o.items.length) return `${at}.items are not distinct`;
    }
    if (o.qualifier !== undefined && !(QUALIFIERS as readonly unknown[]).includes(o.qualifier))
      return `${at}.qualifier is unknown`;
  }
  return undefined;
}

/** One observation of a slice as the engine reads it. */
export interface SliceObservation {
  readonly area: string;
  readonly measure: string;
  readonly value?: number | null;
  readonly items?: readonly string[] | null;
  readonly qualifier?: Qualifier;
}

/** What the aggregation engine reads of a slice (`GroupState.apply`). */
export interface SliceInput {
  readonly source: string;
  readonly feedId: string;
  /** ISO instant; orders corrections. */
  readonly sentAt: string;
  readonly period: string;
  readonly status: FeedStatus;
  /** The audit log's exchange, to which the keys it changes are attributed. */
  readonly exchangeId?: string;
  readonly observations: readonly SliceObservation[];
}

/** The fields of a slice record the engine reads. */
export function sliceInput(slice: FeedSlice): SliceInput {
  return {
    source: slice.source,
    feedId: slice.feedId,
    sentAt: slice.sentAt,
    period: slice.period,
    status: slice.status,
    ...(slice.origin.exchangeId !== undefined ? { exchangeId: slice.origin.exchangeId } : {}),
    observations: slice.observations,
  };
}

/**
 * A slice the hub stored itself (a group's reload replays thousands): its schema is checked,
 * not every field as `readFeedSlice` checks a record from the topic. Undefined if unreadable.
 */
export function parseStoredSlice(text: string): FeedSlice | undefined {
  try {
    const s = JSON.parse(text) as FeedSlice;
    return s?.schema === FEED_SLICE_SCHEMA && Array.isArray(s.observations) ? s : undefined;
  } catch {
    return undefined;
  }
}
