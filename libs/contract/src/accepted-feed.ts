import type { FeedStatus, Qualifier } from '@app/catalogue';

export const ACCEPTED_FEED_SCHEMA = 'lgsp.accepted-feed.v1';

/** One observation in canonical form. `null` value or items is a retraction. */
export interface AcceptedObservation {
  readonly area: string;
  readonly measure: string;
  readonly value?: number | null;
  readonly items?: string[] | null;
  readonly qualifier?: Qualifier;
}

/**
 * A feed the hub has validated and normalised; `sliceFeed` cuts it into the slices of
 * `lgsp.feed-slices.v1`.
 * `sentAt` is normalised to a UTC instant with milliseconds so that it orders as text too.
 */
export interface AcceptedFeed {
  readonly schema: typeof ACCEPTED_FEED_SCHEMA;
  readonly source: string;
  readonly feedId: string;
  readonly sentAt: string;
  readonly period: string;
  readonly status: FeedStatus;
  readonly observations: AcceptedObservation[];
  readonly receivedAt: string;
  readonly origin: {
    readonly channel: 'kafka' | 'http' | 'replay';
    /** The audit log's id of this exchange (see `exchange` in libs/database). */
    readonly exchangeId?: string;
    readonly topic?: string;
    readonly partition?: number;
    readonly offset?: string;
  };
}
