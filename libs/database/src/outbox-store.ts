import type { DataSource, QueryRunner } from 'typeorm';

export interface PendingEvent {
  readonly id: string;
  readonly topic: string;
  readonly key: string;
  /** The event, serialised once when written: published byte for byte. */
  readonly payload: string;
}

/** The outbox relay's SQL. One relay at a time holds the session lock and publishes in id order. */
export class OutboxStore {
  static readonly RELAY_LOCK = 727_002;

  async tryLockRelay(q: QueryRunner): Promise<boolean> {
    const [row]: { locked: boolean }[] = await q.query(
      'SELECT pg_try_advisory_lock($1) AS locked',
      [OutboxStore.RELAY_LOCK],
    );
    return row?.locked === true;
  }

  async unlockRelay(q: QueryRunner): Promise<void> {
    await q.query('SELECT pg_advisory_unlock($1)', [OutboxStore.RELAY_LOCK]);
  }

  async pending(q: QueryRunner, limit: number): Promise<PendingEvent[]> {
    return q.query(
      `SELECT id::text AS id, topic, key, payload FROM outbox
        WHERE published_at IS NULL ORDER BY id LIMIT $1`,
      [limit],
    );
  }

  async markPublished(q: QueryRunner, ids: readonly string[]): Promise<void> {
    await q.query(`UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])`, [
      [...ids],
    ]);
  }

  /** Published events are on the compacted topic and in kpi_value: the outbox forgets them. */
  async purgePublished(q: QueryRunner, olderThanSeconds: number): Promise<number> {
    const rows: unknown[] = await q.query(
      `DELETE FROM outbox WHERE published_at < now() - make_interval(secs => $1) RETURNING id`,
      [olderThanSeconds],
    );
    return rows.length;
  }

  async backlog(q: QueryRunner | DataSource): Promise<number> {
    const [row]: { n: string }[] = await q.query(
      'SELECT count(*) AS n FROM outbox WHERE published_at IS NULL',
    );
    return Number(row?.n ?? 0);
  }
}
