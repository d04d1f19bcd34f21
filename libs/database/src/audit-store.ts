import type { DataSource, QueryRunner } from 'typeorm';
import { pgJson, pgText } from './pg-safe.js';

type Db = DataSource | QueryRunner;

/** Where a feed came in, and what became of it. */
export type ExchangeChannel = 'kafka' | 'http' | 'replay';
/**
 * `validated`: the ingest accepted it and handed it on; `duplicate`: the ingest found its
 * `(source, feedId)` claimed by an earlier exchange; `accepted`: the aggregator applied it
 * (the KPI keys it changed follow as they are published); `rejected`: never applied.
 */
export type ExchangeOutcome = 'validated' | 'accepted' | 'duplicate' | 'rejected';

export interface ExchangeEntry {
  /** Set when an earlier stage (the HTTP ingest) already recorded the exchange. */
  readonly exchangeId?: string;
  readonly channel: ExchangeChannel;
  readonly source: string | null;
  readonly feedId: string | null;
  readonly topic: string | null;
  readonly partition: number | null;
  readonly offset: string | null;
  readonly sizeBytes: number;
  readonly contentSha256: string | null;
  readonly outcome: ExchangeOutcome;
  readonly errorCode?: string | null;
  readonly errors?: unknown;
  readonly observations?: number | null;
  readonly replayOf?: string | null;
}

export interface DlqEntry {
  readonly exchangeId: string | null;
  readonly source: string | null;
  readonly feedId: string | null;
  /** Where the record was read from; none for a feed refused at the HTTP edge. */
  readonly topic: string | null;
  readonly key: string | null;
  readonly payload: Buffer;
  /** False for bytes that cannot become a feed again (a CSV that could not be read). */
  readonly replayable: boolean;
  readonly errorCode: string;
  readonly errors: unknown;
  readonly rejectedBy: string;
}

export interface ExchangeQuery {
  readonly source?: string;
  readonly from?: string;
  readonly to?: string;
  readonly outcome?: string;
  readonly feedId?: string;
  readonly after?: string;
  readonly limit: number;
}

/** The audit log of every exchange, and the index of the DLQ (bytes and reasons, for replay). */
export class AuditStore {
  /**
   * Records exchanges, idempotently: a Kafka record is one row however often it is read, and
   * a row an earlier stage created is completed. Returns each entry's exchange id, in order.
   */
  async record(db: Db, entries: readonly ExchangeEntry[]): Promise<string[]> {
    if (entries.length === 0) return [];
    const col = <T>(f: (e: ExchangeEntry) => T): T[] => entries.map(f);
    const rows: { ord: number; id: string }[] = await db.query(
      `WITH input AS (
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],
                              $6::int[], $7::bigint[], $8::int[], $9::text[], $10::text[],
                              $11::text[], $12::jsonb[], $13::int[], $14::bigint[])
           WITH ORDINALITY AS u(exchange_id, channel, source, feed_id, topic, partition, "offset",
                                size_bytes, content_sha256, outcome, error_code, errors,
                                observations, replay_of, ord)),
       completed AS (
         UPDATE exchange x SET topic = i.topic, partition = i.partition, "offset" = i."offset",
                feed_id = coalesce(x.feed_id, i.feed_id),
                outcome = CASE WHEN x.outcome IN ('accepted', 'duplicate') THEN x.outcome
                               ELSE i.outcome END,
                error_code = i.error_code, errors = i.errors,
                observations = coalesce(i.observations, x.observations), decided_at = now()
           FROM input i WHERE i.exchange_id IS NOT NULL AND x.id = i.exchange_id
            AND x.channel = i.channel AND (x.topic IS NULL OR
                (x.topic, x.partition, x."offset") = (i.topic, i.partition, i."offset"))
         RETURNING i.ord, x.id),
       inserted AS (
         INSERT INTO exchange (channel, source, feed_id, topic, partition, "offset", size_bytes,
                               content_sha256, outcome, error_code, errors, observations,
                               replay_of, decided_at)
         SELECT channel, source, feed_id, topic, partition, "offset", size_bytes, content_sha256,
                outcome, error_code, errors, observations, replay_of, now()
           FROM input WHERE exchange_id IS NULL ORDER BY ord
         ON CONFLICT (topic, partition, "offset") DO UPDATE SET outcome =
           CASE WHEN exchange.outcome IN ('accepted', 'duplicate') THEN exchange.outcome
                ELSE EXCLUDED.outcome END
         RETURNING id, topic, partition, "offset")
       SELECT ord::int, id::text FROM completed
       UNION ALL
       SELECT i.ord::int, n.id::text FROM inserted n
         JOIN input i ON i.exchange_id IS NULL AND i.topic = n.topic
                     AND i.partition = n.partition AND i."offset" = n."offset"`,
      [
        col((e) => e.exchangeId ?? null),
        col((e) => e.channel),
        col((e) => pgText(e.source)),
        col((e) => pgText(e.feedId)),
        col((e) => e.topic),
        col((e) => e.partition),
        col((e) => e.offset),
        col((e) => e.sizeBytes),
        col((e) => e.contentSha256),
        col((e) => e.outcome),
        col((e) => e.errorCode ?? null),
        col((e) => (e.errors === undefined ? null : pgJson(e.errors))),
        col((e) => e.observations ?? null),
        col((e) => e.replayOf ?? null),
      ],
    );
    const ids: string[] = new Array<string>(entries.length);
    for (const r of rows) ids[r.ord - 1] = r.id;
    return ids;
  }

  /** One exchange seen at the HTTP edge, before (or instead of) Kafka. */
  async recordOne(db: Db, e: ExchangeEntry): Promise<string> {
    const rows: { id: string }[] = await db.query(
      `INSERT INTO exchange (channel, source, feed_id, size_bytes, content_sha256, outcome,
                             error_code, errors, observations, replay_of, decided_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
               CASE WHEN $6 = 'rejected' THEN now() END)
       RETURNING id::text`,
      [
        e.channel,
        pgText(e.source),
        pgText(e.feedId),
        e.sizeBytes,
        e.contentSha256,
        e.outcome,
        e.errorCode ?? null,
        e.errors === undefined ? null : pgJson(e.errors),
        e.observations ?? null,
        e.replayOf ?? null,
      ],
    );
    return rows[0]!.id;
  }

  /** The aggregator applied (part of) these exchanges. */
  async markAccepted(db: Db, exchangeIds: readonly string[]): Promise<void> {
    if (exchangeIds.length === 0) return;
    await db.query(
      `UPDATE exchange SET outcome = 'accepted', decided_at = now()
        WHERE id = ANY($1::bigint[]) AND outcome = 'validated'`,
      [[...new Set(exchangeIds)]],
    );
  }

  /**
   * The KPI keys an exchange changed, as the aggregator publishes them: their number, and the
   * first `keep` (coarsest areas first; a feed of communes changes thousands of keys).
   */
  async addKpiKeys(
    db: Db,
    entries: readonly { exchangeId: string; count: number; keys: readonly string[] }[],
    keep = 100,
  ): Promise<void> {
    if (entries.length === 0) return;
    await db.query(
      `UPDATE exchange x
          SET kpi_key_count = coalesce(x.kpi_key_count, 0) + d.count,
              kpi_keys = (coalesce(x.kpi_keys, '{}') || d.keys)[1:$4]
         FROM (SELECT u.id, u.count,
                      ARRAY(SELECT jsonb_array_elements_text(u.keys)) AS keys
                 FROM unnest($1::bigint[], $2::int[], $3::jsonb[]) AS u(id, count, keys)) d
        WHERE x.id = d.id`,
      [
        entries.map((e) => e.exchangeId),
        entries.map((e) => e.count),
        entries.map((e) => JSON.stringify(e.keys)),
        keep,
      ],
    );
  }

  /** A verdict decided outside the aggregator's flow: duplicate (ingest), rejected. */
  async decide(
    db: Db,
    decisions: readonly { exchangeId: string; outcome: ExchangeOutcome; kpiKeys: string[] }[],
  ): Promise<void> {
    if (decisions.length === 0) return;
    await db.query(
      `UPDATE exchange x SET outcome = d.outcome, kpi_keys = d.keys, decided_at = now()
         FROM (SELECT u.id, u.outcome, ARRAY(SELECT jsonb_array_elements_text(u.keys)) AS keys
                 FROM unnest($1::bigint[], $2::text[], $3::jsonb[]) AS u(id, outcome, keys)) d
        WHERE x.id = d.id AND NOT (x.outcome = 'accepted' AND d.outcome = 'duplicate')`,
      [
        decisions.map((d) => d.exchangeId),
        decisions.map((d) => d.outcome),
        decisions.map((d) => JSON.stringify(d.kpiKeys)),
      ],
    );
  }

  /** Indexes DLQ records, one statement for the batch; a record seen again is kept once. */
  async addToDlq(db: Db, entries: readonly DlqEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const col = <T>(f: (e: DlqEntry) => T): T[] => entries.map(f);
    await db.query(
      `INSERT INTO dlq_entry (exchange_id, source, feed_id, topic, key, payload, replayable,
                              error_code, errors, rejected_by)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],
                            $6::bytea[], $7::boolean[], $8::text[], $9::jsonb[], $10::text[])
       ON CONFLICT (exchange_id) DO NOTHING`,
      [
        col((e) => e.exchangeId),
        col((e) => pgText(e.source)),
        col((e) => pgText(e.feedId)),
        col((e) => e.topic),
        col((e) => pgText(e.key)),
        col((e) => e.payload),
        col((e) => e.replayable),
        col((e) => e.errorCode),
        col((e) => pgJson(e.errors)),
        col((e) => e.rejectedBy),
      ],
    );
  }

  async exchanges(db: Db, q: ExchangeQuery): Promise<Record<string, unknown>[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (sql: string, v: unknown): void => {
      args.push(v);
      where.push(sql.replace('?', `$${args.length}`));
    };
    if (q.source) add('source = ?', q.source);
    if (q.from) add('received_at >= ?', q.from);
    if (q.to) add('received_at < ?', q.to);
    if (q.outcome) add('outcome = ?', q.outcome);
    if (q.feedId) add('feed_id = ?', q.feedId);
    if (q.after) add('id > ?', q.after);
    args.push(q.limit);
    const rows: Record<string, unknown>[] = await db.query(
      `SELECT id::text, received_at, channel, source, feed_id, topic, partition, "offset"::text,
              size_bytes, content_sha256, outcome, error_code, errors, observations,
              coalesce(kpi_keys, '{}') AS kpi_keys, coalesce(kpi_key_count, 0) AS kpi_key_count,
              replay_of::text, decided_at,
              (SELECT d.id::text FROM dlq_entry d WHERE d.exchange_id = exchange.id) AS dlq_id
         FROM exchange ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY exchange.id LIMIT $${args.length}`,
      args,
    );
    return rows.map((r) => ({
      id: r.id,
      receivedAt: (r.received_at as Date).toISOString(),
      channel: r.channel,
      source: r.source,
      feedId: r.feed_id,
      kafka: r.topic ? { topic: r.topic, partition: r.partition, offset: r.offset } : null,
      sizeBytes: r.size_bytes,
      contentSha256: r.content_sha256,
      outcome: r.outcome,
      errorCode: r.error_code,
      errors: r.errors,
      observations: r.observations,
      kpiKeys: r.kpi_keys,
      kpiKeyCount: r.kpi_key_count,
      replayOf: r.replay_of,
      dlqId: r.dlq_id,
      decidedAt: (r.decided_at as Date | null)?.toISOString() ?? null,
    }));
  }

  async dlq(
    db: Db,
    q: { source?: string; after?: string; limit: number },
  ): Promise<Record<string, unknown>[]> {
    const rows: Record<string, unknown>[] = await db.query(
      `SELECT id::text, exchange_id::text, source, feed_id, topic, error_code, errors,
              rejected_by, rejected_at, replays, last_replayed_at, replayable,
              octet_length(payload) AS size_bytes
         FROM dlq_entry WHERE ($1::text IS NULL OR source = $1) AND id > $2
        ORDER BY dlq_entry.id LIMIT $3`,
      [q.source ?? null, q.after ?? '0', q.limit],
    );
    return rows.map(dlqView);
  }

  async dlqEntry(
    db: Db,
    id: string,
  ): Promise<(Record<string, unknown> & { payload: Buffer; key: string | null }) | undefined> {
    const rows: Record<string, unknown>[] = await db.query(
      `SELECT id::text, exchange_id::text, source, feed_id, topic, key, payload, error_code,
              errors, rejected_by, rejected_at, replays, last_replayed_at, replayable,
              octet_length(payload) AS size_bytes
         FROM dlq_entry WHERE id = $1`,
      [id],
    );
    const r = rows[0];
    return r
      ? { ...dlqView(r), payload: r.payload as Buffer, key: r.key as string | null }
      : undefined;
  }

  async markReplayed(db: Db, id: string): Promise<void> {
    await db.query(
      `UPDATE dlq_entry SET replays = replays + 1, last_replayed_at = now() WHERE id = $1`,
      [id],
    );
  }
}

function dlqView(r: Record<string, unknown>): Record<string, unknown> {
  return {
    id: r.id,
    exchangeId: r.exchange_id,
    source: r.source,
    feedId: r.feed_id,
    topic: r.topic,
    errorCode: r.error_code,
    errors: r.errors,
    rejectedBy: r.rejected_by,
    rejectedAt: (r.rejected_at as Date).toISOString(),
    sizeBytes: r.size_bytes,
    replayable: r.replayable,
    replays: r.replays,
    lastReplayedAt: (r.last_replayed_at as Date | null)?.toISOString() ?? null,
  };
}
