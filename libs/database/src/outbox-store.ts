import type { DataSource, QueryRunner } from 'typeorm';

export interface PendingEvent {
  readonly id: string;
  readonly key: string;
  /** The event, serialised once when written: published byte for byte. */
  readonly payload: string;
}

/**
 * The outbox relay's SQL. The change log (`kpi_change`) is the outbox: ids follow commit
 * order (see KpiStore.lockChangeLog), and the relay keeps the last id it published in
 * `relay_position`, so publishing marks nothing row by row. One relay at a time holds the
 * session lock and publishes in id order.
 */
export class OutboxStore {
  static readonly RELAY_LOCK = 727_002;
  static readonly TOPIC = 'lgsp.kpi.v1';

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

  /** The last change-log id published. */
  async position(q: QueryRunner | DataSource): Promise<string> {
    await q.query(
      `INSERT INTO relay_position (topic, last_id) VALUES ($1, 0) ON CONFLICT DO NOTHING`,
      [OutboxStore.TOPIC],
    );
    const [row]: { last_id: string }[] = await q.query(
      `SELECT last_id::text FROM relay_position WHERE topic = $1`,
      [OutboxStore.TOPIC],
    );
    return row!.last_id;
  }

  async pending(q: QueryRunner, after: string, limit: number): Promise<PendingEvent[]> {
    return q.query(
      // Order by the column, not the text alias: '100000' sorts before '99999'.
      `SELECT c.id::text AS id, c.kpi || '|' || c.area || '|' || c.period AS key, c.payload
         FROM kpi_change c WHERE c.id > $1::bigint ORDER BY c.id LIMIT $2`,
      [after, limit],
    );
  }

  async advance(q: QueryRunner, lastId: string): Promise<void> {
    await q.query(
      `UPDATE relay_position SET last_id = $2::bigint, updated_at = now() WHERE topic = $1`,
      [OutboxStore.TOPIC, lastId],
    );
  }

  /** Events committed and not yet published. */
  async backlog(q: QueryRunner | DataSource): Promise<number> {
    const [row]: { n: string }[] = await q.query(
      `SELECT count(*) AS n FROM kpi_change
        WHERE id > coalesce((SELECT last_id FROM relay_position WHERE topic = $1), 0)`,
      [OutboxStore.TOPIC],
    );
    return Number(row?.n ?? 0);
  }
}
