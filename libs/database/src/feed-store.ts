import type { DataSource, QueryRunner } from 'typeorm';

type Db = DataSource | QueryRunner;

/** A validated feed, claimed for the exchange that brought it. */
export interface FeedClaim {
  readonly source: string;
  readonly feedId: string;
  readonly sentAt: string;
  readonly period: string;
  readonly status: string;
  readonly observationCount: number;
  readonly receivedAt: string;
  readonly origin: Record<string, unknown>;
  readonly exchangeId: string;
}

/**
 * The duplicate check of contract v1: the first exchange to claim `(source, feedId)` owns the
 * feed. A record read again (a redelivery) is the same exchange and still owns it, so a crash
 * between the claim and forwarding the feed loses nothing; any other exchange is a duplicate.
 */
export class FeedStore {
  /**
   * For each claim, in order: the exchange that owns the feed; null when another exchange
   * claimed it in a transaction that committed while this one waited for its row (its id is
   * not in this statement's snapshot), or for an older hub's feed. Null is a duplicate too.
   */
  async claim(db: Db, claims: readonly FeedClaim[]): Promise<(string | null)[]> {
    if (claims.length === 0) return [];
    const col = <T>(f: (c: FeedClaim) => T): T[] => claims.map(f);
    const rows: { ord: number; owner: string | null }[] = await db.query(
      `WITH input AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[],
                              $6::int[], $7::timestamptz[], $8::jsonb[], $9::bigint[])
           WITH ORDINALITY AS u(source, feed_id, sent_at, period, status, observation_count,
                                received_at, origin, exchange_id, ord)),
       claimed AS (
         INSERT INTO feed (source, feed_id, sent_at, period, status, observation_count,
                           received_at, origin, exchange_id)
         SELECT DISTINCT ON (source, feed_id) source, feed_id, sent_at, period, status,
                observation_count, received_at, origin, exchange_id
           FROM input ORDER BY source, feed_id, ord
         ON CONFLICT (source, feed_id) DO NOTHING
         RETURNING source, feed_id, exchange_id)
       SELECT i.ord::int, coalesce(c.exchange_id, f.exchange_id)::text AS owner
         FROM input i
         LEFT JOIN claimed c ON c.source = i.source AND c.feed_id = i.feed_id
         LEFT JOIN feed f ON f.source = i.source AND f.feed_id = i.feed_id`,
      [
        col((c) => c.source),
        col((c) => c.feedId),
        col((c) => c.sentAt),
        col((c) => c.period),
        col((c) => c.status),
        col((c) => c.observationCount),
        col((c) => c.receivedAt),
        col((c) => JSON.stringify(c.origin)),
        col((c) => c.exchangeId),
      ],
    );
    const owners = new Array<string | null>(claims.length).fill(null);
    for (const r of rows) owners[r.ord - 1] = r.owner;
    return owners;
  }
}
