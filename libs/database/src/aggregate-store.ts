import type { KpiKey, Observation } from '@app/catalogue';
import type { QueryRunner } from 'typeorm';

/** A feed to record as processed. */
export interface FeedRow {
  readonly source: string;
  readonly feedId: string;
  readonly sentAt: string;
  readonly period: string;
  readonly status: string;
  readonly observationCount: number;
  readonly receivedAt: string;
  readonly origin: Record<string, unknown>;
}

/** One observation to upsert; `value` and `items` both null means retracted. */
export interface ObservationRow {
  readonly source: string;
  readonly measure: string;
  readonly area: string;
  readonly period: string;
  readonly bs: string;
  readonly provinceNode: string;
  readonly year: number;
  readonly value: number | null;
  readonly items: readonly string[] | null;
  readonly qualifier: string | null;
  readonly status: string;
  readonly feedId: string;
  readonly sentAt: string;
}

export interface StoredKpi {
  readonly kpi: string;
  readonly area: string;
  readonly period: string;
  readonly bs: string;
  readonly year: number;
  readonly areaName: string;
  readonly unit: string;
  readonly value: number | null;
  readonly numerator: number | null;
  readonly denominator: number | null;
  readonly denominatorPeriod: string | null;
  readonly status: 'final' | 'provisional';
  readonly completeness: { expected: string[]; reported: string[] };
  readonly inputs: unknown[];
  readonly note: string | null;
  readonly yearToDate: number | null;
  readonly revision: number;
  readonly eventId: string;
  readonly computedAt: string;
}

export interface OutboxRow {
  readonly topic: string;
  readonly key: string;
  /** Serialised JSON, published as is. */
  readonly payload: string;
}

export const identityOf = (o: {
  source: string;
  measure: string;
  area: string;
  period: string;
}): string => `${o.source}\u0000${o.measure}\u0000${o.area}\u0000${o.period}`;

export const kpiKeyOf = (k: { kpi: string; area: string; period: string }): string =>
  `${k.kpi}|${k.area}|${k.period}`;

/**
 * Every statement of the aggregation hot path, set-based: one round trip per step and batch,
 * whatever the batch size (`INSERT ... SELECT FROM unnest(...)`). Runs inside the caller's
 * transaction.
 */
export class AggregateStore {
  static readonly CHANGE_LOG_LOCK = 727_003;

  /** Serialises writers per province node (`2008:37`), in one sorted order: no deadlocks. */
  async lockProvinces(q: QueryRunner, nodes: readonly string[]): Promise<void> {
    if (nodes.length === 0) return;
    await q.query(
      `SELECT count(pg_advisory_xact_lock(hashtext(n)))
         FROM (SELECT DISTINCT n FROM unnest($1::text[]) AS n ORDER BY n) s`,
      [[...nodes]],
    );
  }

  /** Records feeds as processed; returns the `source\0feedId` of those not seen before. */
  async insertFeeds(q: QueryRunner, feeds: readonly FeedRow[]): Promise<Set<string>> {
    if (feeds.length === 0) return new Set();
    const rows: { source: string; feed_id: string }[] = await q.query(
      `INSERT INTO feed (source, feed_id, sent_at, period, status, observation_count, received_at, origin)
       SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[],
                            $6::int[], $7::timestamptz[], $8::jsonb[])
       ON CONFLICT (source, feed_id) DO NOTHING
       RETURNING source, feed_id`,
      [
        feeds.map((f) => f.source),
        feeds.map((f) => f.feedId),
        feeds.map((f) => f.sentAt),
        feeds.map((f) => f.period),
        feeds.map((f) => f.status),
        feeds.map((f) => f.observationCount),
        feeds.map((f) => f.receivedAt),
        feeds.map((f) => JSON.stringify(f.origin)),
      ],
    );
    return new Set(rows.map((r) => `${r.source}\u0000${r.feed_id}`));
  }

  /**
   * Upserts observations; a row replaces the stored one only if it was sent later (ties: the
   * greater feedId). Returns the identities that changed. Rows must be distinct identities.
   */
  async upsertObservations(
    q: QueryRunner,
    rows: readonly ObservationRow[],
  ): Promise<ObservationRow[]> {
    if (rows.length === 0) return [];
    const changed: { source: string; measure: string; area: string; period: string }[] =
      await q.query(
        `INSERT INTO observation AS o
           (source, measure, area, period, bs, province_node, year, value, items, retracted,
            qualifier, status, feed_id, sent_at)
         SELECT u.source, u.measure, u.area, u.period, u.bs, u.province_node, u.year, u.value,
                CASE WHEN u.items IS NULL THEN NULL
                     ELSE ARRAY(SELECT jsonb_array_elements_text(u.items)) END,
                u.value IS NULL AND u.items IS NULL, u.qualifier, u.status, u.feed_id, u.sent_at
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                       $7::int[], $8::float8[], $9::jsonb[], $10::text[], $11::text[],
                       $12::text[], $13::timestamptz[])
             AS u(source, measure, area, period, bs, province_node, year, value, items,
                  qualifier, status, feed_id, sent_at)
         ON CONFLICT (source, measure, area, period) DO UPDATE SET
           value = EXCLUDED.value, items = EXCLUDED.items, retracted = EXCLUDED.retracted,
           qualifier = EXCLUDED.qualifier, status = EXCLUDED.status,
           feed_id = EXCLUDED.feed_id, sent_at = EXCLUDED.sent_at
         WHERE (o.sent_at, o.feed_id) < (EXCLUDED.sent_at, EXCLUDED.feed_id)
         RETURNING source, measure, area, period`,
        [
          rows.map((r) => r.source),
          rows.map((r) => r.measure),
          rows.map((r) => r.area),
          rows.map((r) => r.period),
          rows.map((r) => r.bs),
          rows.map((r) => r.provinceNode),
          rows.map((r) => r.year),
          rows.map((r) => r.value),
          rows.map((r) => (r.items ? JSON.stringify(r.items) : null)),
          rows.map((r) => r.qualifier),
          rows.map((r) => r.status),
          rows.map((r) => r.feedId),
          rows.map((r) => r.sentAt),
        ],
      );
    const byId = new Map(rows.map((r) => [identityOf(r), r]));
    return changed.map((c) => byId.get(identityOf(c))!);
  }

  /**
   * Existing KPI keys that may fall back on changed reference values (population, ...): keys of
   * these KPIs in each (boundary set, area) from its year on. One statement for the whole batch.
   */
  async keysUsingReference(
    q: QueryRunner,
    kpis: readonly string[],
    from: readonly { bs: string; area: string; year: number }[],
  ): Promise<KpiKey[]> {
    if (kpis.length === 0 || from.length === 0) return [];
    const rows: KpiKey[] = await q.query(
      `SELECT DISTINCT k.kpi, k.bs, k.area, k.period FROM kpi_value k
         JOIN unnest($1::text[], $2::text[], $3::int[]) AS u(bs, area, from_year)
           ON k.bs = u.bs AND k.area = u.area AND k.year >= u.from_year
        WHERE k.kpi = ANY($4::text[])`,
      [from.map((f) => f.bs), from.map((f) => f.area), from.map((f) => f.year), [...kpis]],
    );
    return rows;
  }

  /** Current (not retracted) observations of these measures, by province node. */
  async loadObservations(
    q: QueryRunner,
    provinceNodes: readonly string[],
    measures: readonly string[],
  ): Promise<Map<string, Observation[]>> {
    const byNode = new Map<string, Observation[]>();
    if (provinceNodes.length === 0) return byNode;
    const rows: {
      province_node: string;
      source: string;
      measure: string;
      area: string;
      period: string;
      value: number | null;
      items: string[] | null;
      status: Observation['status'];
      feed_id: string;
      sent_at: Date;
      qualifier: Observation['qualifier'] | null;
    }[] = await q.query(
      `SELECT province_node, source, measure, area, period, value, items, status, feed_id,
              sent_at, qualifier
         FROM observation
        WHERE province_node = ANY($1::text[]) AND measure = ANY($2::text[]) AND NOT retracted`,
      [[...provinceNodes], [...measures]],
    );
    for (const r of rows) {
      const o: Observation = {
        source: r.source,
        measure: r.measure,
        area: r.area,
        period: r.period,
        ...(r.items ? { items: r.items } : { value: r.value! }),
        status: r.status,
        feedId: r.feed_id,
        sentAt: r.sent_at.toISOString(),
        ...(r.qualifier ? { qualifier: r.qualifier } : {}),
      };
      const list = byNode.get(r.province_node);
      if (list) list.push(o);
      else byNode.set(r.province_node, [o]);
    }
    return byNode;
  }

  async loadKpis(q: QueryRunner, keys: readonly KpiKey[]): Promise<Map<string, StoredKpi>> {
    if (keys.length === 0) return new Map();
    const rows: Record<string, unknown>[] = await q.query(
      `SELECT k.* FROM kpi_value k
         JOIN unnest($1::text[], $2::text[], $3::text[]) AS u(kpi, area, period)
           ON k.kpi = u.kpi AND k.area = u.area AND k.period = u.period`,
      [keys.map((k) => k.kpi), keys.map((k) => k.area), keys.map((k) => k.period)],
    );
    return new Map(
      rows.map((r) => {
        const k = toStoredKpi(r);
        return [kpiKeyOf(k), k];
      }),
    );
  }

  async writeKpis(q: QueryRunner, rows: readonly StoredKpi[]): Promise<void> {
    if (rows.length === 0) return;
    await q.query(
      `INSERT INTO kpi_value (kpi, area, period, bs, year, area_name, unit, value, numerator,
                              denominator, denominator_period, status, completeness, inputs,
                              note, revision, event_id, computed_at, year_to_date)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[],
                            $6::text[], $7::text[], $8::float8[], $9::float8[], $10::float8[],
                            $11::text[], $12::text[], $13::jsonb[], $14::jsonb[], $15::text[],
                            $16::int[], $17::uuid[], $18::timestamptz[], $19::float8[])
       ON CONFLICT (kpi, area, period) DO UPDATE SET
         value = EXCLUDED.value, numerator = EXCLUDED.numerator,
         denominator = EXCLUDED.denominator, denominator_period = EXCLUDED.denominator_period,
         status = EXCLUDED.status, completeness = EXCLUDED.completeness,
         inputs = EXCLUDED.inputs, note = EXCLUDED.note, revision = EXCLUDED.revision,
         event_id = EXCLUDED.event_id, computed_at = EXCLUDED.computed_at,
         area_name = EXCLUDED.area_name, year_to_date = EXCLUDED.year_to_date`,
      [
        rows.map((r) => r.kpi),
        rows.map((r) => r.area),
        rows.map((r) => r.period),
        rows.map((r) => r.bs),
        rows.map((r) => r.year),
        rows.map((r) => r.areaName),
        rows.map((r) => r.unit),
        rows.map((r) => r.value),
        rows.map((r) => r.numerator),
        rows.map((r) => r.denominator),
        rows.map((r) => r.denominatorPeriod),
        rows.map((r) => r.status),
        rows.map((r) => JSON.stringify(r.completeness)),
        rows.map((r) => JSON.stringify(r.inputs)),
        rows.map((r) => r.note),
        rows.map((r) => r.revision),
        rows.map((r) => r.eventId),
        rows.map((r) => r.computedAt),
        rows.map((r) => r.yearToDate),
      ],
    );
  }

  /**
   * Queues the events for the relay and appends them to the change log. Call it last before
   * the commit: it takes a global lock so that change-log ids follow commit order, and a
   * reader's cursor (`id > after`) can never step over a row committed later.
   */
  async insertOutbox(q: QueryRunner, rows: readonly OutboxRow[]): Promise<void> {
    if (rows.length === 0) return;
    await q.query('SELECT pg_advisory_xact_lock($1)', [AggregateStore.CHANGE_LOG_LOCK]);
    await q.query(
      `WITH e AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS e(topic, key, payload)),
            o AS (INSERT INTO outbox (topic, key, payload) SELECT topic, key, payload FROM e)
       INSERT INTO kpi_change (kpi, area, period, revision, payload)
       SELECT split_part(key, '|', 1), split_part(key, '|', 2), split_part(key, '|', 3),
              (payload::json->>'revision')::int, payload
         FROM e`,
      [rows.map((r) => r.topic), rows.map((r) => r.key), rows.map((r) => r.payload)],
    );
  }
}

export function toStoredKpi(r: Record<string, unknown>): StoredKpi {
  return {
    kpi: r.kpi as string,
    area: r.area as string,
    period: r.period as string,
    bs: r.bs as string,
    year: r.year as number,
    areaName: r.area_name as string,
    unit: r.unit as string,
    value: r.value as number | null,
    numerator: r.numerator as number | null,
    denominator: r.denominator as number | null,
    denominatorPeriod: r.denominator_period as string | null,
    status: r.status as StoredKpi['status'],
    completeness: r.completeness as StoredKpi['completeness'],
    inputs: r.inputs as unknown[],
    note: r.note as string | null,
    yearToDate: (r.year_to_date as number | null) ?? null,
    revision: r.revision as number,
    eventId: r.event_id as string,
    computedAt: (r.computed_at as Date).toISOString(),
  };
}
