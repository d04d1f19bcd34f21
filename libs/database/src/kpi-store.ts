import { type BoundarySet, boundarySetOf, mustParsePeriod } from '@app/catalogue';
import { KPI_EVENT_INPUTS_AT, type KpiEvent, kpiEventHead } from '@app/contract';
import type { DataSource, QueryRunner } from 'typeorm';
import {
  ChangeLogWriter,
  type ChangeLogWriterOptions,
  type CopyClient,
} from './change-log-writer.js';

type Db = DataSource | QueryRunner;

/** What the engine needs of a published key to tell whether it changed. */
export interface PublishedRow {
  readonly kpi: string;
  readonly bs: '2008' | '2025';
  readonly area: string;
  readonly period: string;
  readonly numerator: number | null;
  readonly denominator: number | null;
  readonly status: 'final' | 'provisional';
  readonly completeness: { readonly expected: string[]; readonly reported: string[] };
  readonly revision: number;
  /** Re-based history of the 2025 province `area`. */
  readonly rebased?: boolean;
}

/**
 * An event's payload up to its `inputs`, which a group's load does not read: half the bytes
 * to move and parse (see `KPI_EVENT_INPUTS_AT`). `split_part` searches bytes; `strpos` and
 * `left` count characters and cost more than they save.
 */
const WITHOUT_INPUTS = `split_part(payload, '${KPI_EVENT_INPUTS_AT}', 1)`;

/**
 * The KPI side of the aggregator and the api: `kpi_change` holds every revision, in commit
 * order (the change feed, and the outbox the relay publishes from); a key's current state is
 * its latest revision (view `kpi_value`).
 */
export class KpiStore {
  static readonly CHANGE_LOG_LOCK = 727_003;

  /**
   * The published state of the keys of these units (one boundary set): each key's latest
   * revision in the change log; with `rebased`, the re-based history of these 2025 provinces.
   * In pages of at most `pageRows` keys, read through a cursor
   * of one query, so that a large group's events (40 MB of JSON for Hồ Chí Minh City's) are
   * never all in memory at once. Call within a transaction (a group loads under its row lock),
   * and one read at a time per session: the cursor has one name.
   */
  async *publishedPages(
    q: QueryRunner,
    bs: BoundarySet,
    areas: readonly string[],
    { pageRows = 5_000, rebased = false }: { pageRows?: number; rebased?: boolean } = {},
  ): AsyncGenerator<PublishedRow[]> {
    if (areas.length === 0) return;
    // A literal, not a parameter: each kind of row has its own partial index.
    await q.query(
      `DECLARE published_keys NO SCROLL CURSOR FOR
         SELECT DISTINCT ON (area, period, kpi) ${WITHOUT_INPUTS} AS payload FROM kpi_change
          WHERE area = ANY($1::text[]) AND ${rebased ? 'rebased' : 'NOT rebased'}
          ORDER BY area, period, kpi, revision DESC`,
      [[...areas]],
    );
    let failed = false;
    try {
      for (;;) {
        const rows: { payload: string }[] = await q.query(`FETCH ${pageRows} FROM published_keys`);
        const page: PublishedRow[] = [];
        for (const { payload } of rows) {
          const e = JSON.parse(kpiEventHead(payload)) as KpiEvent;
          // Codes were reused in 2025: a code's keys in the other boundary set are not these.
          if (!rebased && boundarySetOf(mustParsePeriod(e.period)) !== bs) continue;
          // An approved key's event shows the official figure; the engine's is the pending one.
          const f = e.pending ?? e;
          page.push({
            kpi: e.kpi,
            bs,
            area: e.area,
            period: e.period,
            numerator: f.numerator,
            denominator: f.denominator,
            status: f.status,
            completeness: f.completeness,
            revision: e.revision,
            ...(rebased ? { rebased } : {}),
          });
        }
        yield page;
        if (rows.length < pageRows) return;
      }
    } catch (e) {
      failed = true;
      throw e;
    } finally {
      // After a failed FETCH the transaction is aborted: CLOSE fails too, and must not hide why.
      await q.query('CLOSE published_keys').catch((e: unknown) => {
        if (!failed) throw e;
      });
    }
  }

  /** The id that marks one flush's changes in the change log (one batch window). */
  async nextFlushId(q: QueryRunner): Promise<number> {
    const [row]: { id: string }[] = await q.query(`SELECT nextval('kpi_flush_id') AS id`);
    return Number(row!.id);
  }

  /**
   * Takes the change-log lock until the transaction ends: change-log ids then follow commit
   * order, so a reader's cursor (`id > after`) never steps over a row committed later.
   * Taken by openChangeLog, just before the transaction's first write to the change log.
   */
  async lockChangeLog(q: QueryRunner): Promise<void> {
    await q.query('SELECT pg_advisory_xact_lock($1)', [KpiStore.CHANGE_LOG_LOCK]);
  }

  /**
   * The last id the change log gave out: its largest row's, or the id sequence's if that is
   * further (ids of a rolled-back flush are not given out again). Read under the change-log
   * lock, it is where the next flush's rows start (ChangeLogWriter numbers them).
   */
  async lastChangeId(q: QueryRunner): Promise<number> {
    const [row]: { id: string }[] = await q.query(
      `SELECT greatest((SELECT coalesce(max(id), 0) FROM kpi_change),
                       (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM kpi_change_id_seq))::text AS id`,
    );
    return Number(row!.id);
  }

  /**
   * A writer for this transaction's revisions: a new flush id, the change-log lock (held until
   * the transaction ends), and the last id read under it, after which the writer numbers its
   * rows. The one way to start writing the change log; call it just before the first row.
   */
  async openChangeLog(
    q: QueryRunner,
    client: CopyClient,
    options: Omit<ChangeLogWriterOptions, 'flushId' | 'lastId'> = {},
  ): Promise<ChangeLogWriter> {
    const flushId = await this.nextFlushId(q);
    await this.lockChangeLog(q);
    const lastId = await this.lastChangeId(q);
    return new ChangeLogWriter(client, { ...options, flushId, lastId });
  }

  /**
   * Every revision after a change-log id, in commit order: the change feed's pages, of the
   * published figures or (`rebased`) of the re-based history; `official`: only events whose
   * figure is an approved one.
   */
  async changes(
    db: Db,
    after: string,
    limit: number,
    { rebased = false, official = false }: { rebased?: boolean; official?: boolean } = {},
  ): Promise<{ id: string; payload: string }[]> {
    // Order by the column, not the text alias: '100000' sorts before '99999'. `official` is a
    // literal: its partial index serves only that query.
    return db.query(
      `SELECT c.id::text AS id, c.payload FROM kpi_change c
        WHERE c.id > $1::bigint AND c.rebased = $3 ${official ? 'AND c.official' : ''}
        ORDER BY c.id LIMIT $2`,
      [after, limit, rebased],
    );
  }

  /**
   * The current events of keys (view `kpi_value`: each key's latest revision; with `rebased`,
   * `kpi_rebased_value`), as published, in area, period, KPI order. `where` is SQL over `v`
   * (the view) with $1.. for `args`.
   */
  async currentEvents(
    db: Db,
    where: string,
    args: readonly unknown[],
    limit: number,
    { rebased = false }: { rebased?: boolean } = {},
  ): Promise<string[]> {
    const view = rebased ? 'kpi_rebased_value' : 'kpi_value';
    const rows: { payload: string }[] = await db.query(
      `SELECT v.payload FROM ${view} v ${where ? `WHERE ${where}` : ''}
        ORDER BY v.area, v.period, v.kpi LIMIT ${Math.floor(limit)}`,
      [...args],
    );
    return rows.map((r) => r.payload);
  }
}
