import type { DataSource, QueryRunner } from 'typeorm';
import { valuesChunks } from './sql.js';

type Db = DataSource | QueryRunner;

/** How far a group's slices were applied, and how far their KPI changes were published. */
export interface GroupVersion {
  readonly applied: number;
  readonly published: number;
  /** Approval moves (issue 27), which re-publish the group's keys from outside the aggregator. */
  readonly approvals: number;
}

export interface SliceRow {
  readonly group: string;
  readonly source: string;
  readonly feedId: string;
  readonly seq: number;
  readonly period: string;
  readonly exchangeId: string | null;
  readonly observationCount: number;
  /** The slice record as it came off the topic (JSON). */
  readonly payload: string;
}

export const sliceId = (s: { group: string; source: string; feedId: string }): string =>
  `${s.group}\u0000${s.source}\u0000${s.feedId}`;

/**
 * The aggregator's state store: every applied slice, per aggregation group, with a sequence
 * number, and per group the applied and published sequence. A group's row lock serialises
 * every writer of the group (two instances during a rebalance included); its version tells a
 * writer whether the group it holds in memory is still the stored one.
 */
export class SliceStore {
  async ensureGroups(db: Db, groups: readonly string[]): Promise<void> {
    await db.query(
      `INSERT INTO aggregation_group (grp) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`,
      [[...groups]],
    );
  }

  /** Locks the groups' rows until the transaction ends, in one order (no deadlocks). */
  async lockGroups(q: QueryRunner, groups: readonly string[]): Promise<Map<string, GroupVersion>> {
    const rows: { grp: string; applied: string; published: string; approvals: string }[] =
      await q.query(
        `SELECT grp, applied_seq AS applied, published_seq AS published,
              approval_seq AS approvals FROM aggregation_group
        WHERE grp = ANY($1::text[]) ORDER BY grp FOR UPDATE`,
        [[...new Set(groups)]],
      );
    return new Map(
      rows.map((r) => [
        r.grp,
        {
          applied: Number(r.applied),
          published: Number(r.published),
          approvals: Number(r.approvals),
        },
      ]),
    );
  }

  /** Inserts slices not stored yet; returns the ids (`sliceId`) of those it inserted. */
  async insertSlices(q: QueryRunner, rows: readonly SliceRow[]): Promise<Set<string>> {
    const inserted = new Set<string>();
    for (const chunk of valuesChunks(rows, 8, (r) => [
      r.group,
      r.source,
      r.feedId,
      r.seq,
      r.period,
      r.exchangeId,
      r.observationCount,
      r.payload,
    ])) {
      const done: { grp: string; source: string; feed_id: string }[] = await q.query(
        `INSERT INTO feed_slice (grp, source, feed_id, seq, period, exchange_id,
                                 observation_count, payload)
         VALUES ${chunk.sql}
         ON CONFLICT (grp, source, feed_id) DO NOTHING
         RETURNING grp, source, feed_id`,
        chunk.params,
      );
      for (const d of done)
        inserted.add(sliceId({ group: d.grp, source: d.source, feedId: d.feed_id }));
    }
    return inserted;
  }

  async setApplied(q: QueryRunner, groups: ReadonlyMap<string, number>): Promise<void> {
    if (groups.size === 0) return;
    await q.query(
      `UPDATE aggregation_group g SET applied_seq = u.seq, updated_at = now()
         FROM unnest($1::text[], $2::bigint[]) AS u(grp, seq) WHERE g.grp = u.grp`,
      [[...groups.keys()], [...groups.values()]],
    );
  }

  async setPublished(q: QueryRunner, group: string, published: number): Promise<void> {
    await q.query(
      `UPDATE aggregation_group SET published_seq = $2, updated_at = now() WHERE grp = $1`,
      [group, published],
    );
  }

  /** A group's slices in sequence order, a page at a time. */
  async slices(
    q: QueryRunner,
    group: string,
    afterSeq: number,
    limit: number,
  ): Promise<{ seq: number; payload: string }[]> {
    const rows: { seq: string; payload: string }[] = await q.query(
      `SELECT seq, payload FROM feed_slice WHERE grp = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [group, afterSeq, limit],
    );
    return rows.map((r) => ({ seq: Number(r.seq), payload: r.payload }));
  }

  /** Groups with applied slices whose KPI changes are not published yet. */
  async unpublished(db: Db): Promise<string[]> {
    const rows: { grp: string }[] = await db.query(
      `SELECT grp FROM aggregation_group WHERE applied_seq > published_seq ORDER BY grp`,
    );
    return rows.map((r) => r.grp);
  }
}
