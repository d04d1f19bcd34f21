/** Anything that runs SQL and returns rows: a TypeORM DataSource or QueryRunner, a pg client. */
export interface Sql {
  // Rows come back untyped, as from TypeORM's query(); callers annotate what they expect.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  query(sql: string, params?: unknown[]): Promise<any>;
}

/**
 * A pg client: the relay reads events as the bytes PostgreSQL holds (`pg`'s binary result
 * format), which go to Kafka as they are, never decoded into strings and encoded again.
 */
export interface BytesClient {
  query(config: {
    text: string;
    values: unknown[];
    binary: true;
    types: typeof BYTES;
  }): Promise<{ rows: Record<string, Buffer>[] }>;
}

/**
 * Every column as its bytes, copied: `pg` parses rows out of a buffer it reuses for the
 * next data from the socket, and a row's fields are views of it.
 */
const BYTES = { getTypeParser: () => (v: Buffer) => Buffer.from(v) };

export interface PendingEvent {
  readonly id: string;
  /** `KPI|AREA|PERIOD`, UTF-8. */
  readonly key: Buffer;
  /** The event, serialised once when written, UTF-8: published byte for byte. */
  readonly payload: Buffer;
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

  async tryLockRelay(q: Sql): Promise<boolean> {
    const [row]: { locked: boolean }[] = await q.query(
      'SELECT pg_try_advisory_lock($1) AS locked',
      [OutboxStore.RELAY_LOCK],
    );
    return row?.locked === true;
  }

  async unlockRelay(q: Sql): Promise<void> {
    await q.query('SELECT pg_advisory_unlock($1)', [OutboxStore.RELAY_LOCK]);
  }

  /** The last change-log id published. */
  async position(q: Sql): Promise<string> {
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

  async pending(client: BytesClient, after: string, limit: number): Promise<PendingEvent[]> {
    const { rows } = await client.query({
      // Order by the column, not the text alias: '100000' sorts before '99999'.
      text: `SELECT c.id::text AS id, c.kpi || '|' || c.area || '|' || c.period AS key, c.payload
               FROM kpi_change c WHERE c.id > $1::bigint ORDER BY c.id LIMIT $2`,
      values: [after, limit],
      binary: true,
      types: BYTES,
    });
    return rows.map((r) => ({ id: r.id!.toString('latin1'), key: r.key!, payload: r.payload! }));
  }

  async advance(q: Sql, lastId: string): Promise<void> {
    await q.query(
      `UPDATE relay_position SET last_id = $2::bigint, updated_at = now() WHERE topic = $1`,
      [OutboxStore.TOPIC, lastId],
    );
  }

  /**
   * Events committed and not yet published: ids past the relay's position. Counted from the
   * ids (dense, but for a rolled-back flush's gap), not row by row: at a million events
   * behind, a count(*) per batch would be the relay's largest cost.
   */
  async backlog(q: Sql): Promise<number> {
    const [row]: { n: string }[] = await q.query(
      `SELECT greatest(coalesce((SELECT max(id) FROM kpi_change), 0)
                       - coalesce((SELECT last_id FROM relay_position WHERE topic = $1), 0), 0)::text AS n`,
      [OutboxStore.TOPIC],
    );
    return Number(row?.n ?? 0);
  }
}
