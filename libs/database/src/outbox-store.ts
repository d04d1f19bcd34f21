import { to as copyTo } from 'pg-copy-streams';
import type { CopyClient } from './change-log-writer.js';

/** Anything that runs SQL and returns rows: a TypeORM DataSource or QueryRunner, a pg client. */
export interface Sql {
  // Rows come back untyped, as from TypeORM's query(); callers annotate what they expect.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  query(sql: string, params?: unknown[]): Promise<any>;
}

export interface PendingEvent {
  readonly id: string;
  /** `KPI|AREA|PERIOD`, UTF-8. */
  readonly key: Buffer;
  /** The event, serialised once when written, UTF-8: published byte for byte. */
  readonly payload: Buffer;
  /** Re-based history: published on `lgsp.kpi.rebased.v1`. */
  readonly rebased: boolean;
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
  /** The channel a flush notifies on commit, and the relay listens to. */
  static readonly CHANNEL = 'lgsp_kpi_change';

  /**
   * Tells the relay, wherever it runs, that events were written: PostgreSQL delivers the
   * notification when (and only if) this transaction commits.
   */
  async notify(q: Sql): Promise<void> {
    await q.query(`SELECT pg_notify($1, '')`, [OutboxStore.CHANNEL]);
  }

  /** Has this session receive the flushes' notifications (pg's `notification` events). */
  async listen(q: Sql): Promise<void> {
    await q.query(`LISTEN ${OutboxStore.CHANNEL}`);
  }

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

  /**
   * Up to `limit` events after the id `after`, in id order, as the bytes PostgreSQL holds:
   * one `COPY ... TO STDOUT` in the binary format, each key and payload a view of its data,
   * never decoded into strings (pg's row protocol decodes every field as text, binary or not:
   * re-encoding them took a fifth of the relay's CPU).
   */
  async pending(client: CopyClient, after: string, limit: number): Promise<PendingEvent[]> {
    // COPY takes no parameters: both are checked to be integers.
    if (!/^\d+$/.test(after) || !Number.isSafeInteger(limit) || limit < 1)
      throw new Error(`pending: bad cursor ${after} or limit ${limit}`);
    const copy = client.query(
      copyTo(`COPY (SELECT c.id, c.kpi || '|' || c.area || '|' || c.period, c.payload, c.rebased
                      FROM kpi_change c WHERE c.id > ${after} ORDER BY c.id LIMIT ${limit})
              TO STDOUT (FORMAT binary)`),
    );
    const chunks: Buffer[] = [];
    for await (const chunk of copy) chunks.push(chunk as Buffer);
    return copiedEvents(Buffer.concat(chunks));
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

/** COPY's binary format: an 11-byte signature, flags (int32), the header extension's length. */
const SIGNATURE = 11;

/**
 * The rows of `OutboxStore.pending`'s COPY (id int8, key, payload, rebased bool), each key
 * and payload a view of `data`.
 */
function copiedEvents(data: Buffer): PendingEvent[] {
  const out: PendingEvent[] = [];
  if (data.length === 0) return out;
  let at = SIGNATURE + 4;
  at += 4 + data.readInt32BE(at);
  for (;;) {
    const fields = data.readInt16BE(at);
    at += 2;
    if (fields === -1) return out;
    if (fields !== 4) throw new Error(`a change-log COPY row with ${fields} fields`);
    const id = data.readBigInt64BE(at + 4);
    at += 12;
    const keyLength = data.readInt32BE(at);
    const key = data.subarray(at + 4, at + 4 + keyLength);
    at += 4 + keyLength;
    const payloadLength = data.readInt32BE(at);
    const payload = data.subarray(at + 4, at + 4 + payloadLength);
    at += 4 + payloadLength;
    const rebased = data.readUInt8(at + 4) === 1;
    at += 5;
    out.push({ id: String(id), key, payload, rebased });
  }
}
