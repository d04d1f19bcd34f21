import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Incremental aggregation (ADR 0007). The ingest claims `(source, feedId)` in `feed` (the
 * duplicate check moves there) and forwards a feed as one slice per aggregation group (a
 * 2025 province with the 2008 provinces that went into it). The aggregator stores each slice
 * as it came (`feed_slice`, its state, replayed when a group is loaded) and keeps per group
 * how far slices were applied and how far their KPI changes were published. The change log
 * `kpi_change` is the outbox: the relay keeps its position in `relay_position`. It is also the
 * one store of KPI revisions: `kpi_value` becomes a view of each key's latest revision (an
 * append to a log is far cheaper than an upsert of a second table, for the same answers).
 *
 * Existing data moves over: current observations become slices of the feeds that won them
 * (replaying them gives the same winners), and the relay resumes at the first event the old
 * outbox had not published.
 */
export class IncrementalAggregation1764100000000 implements MigrationInterface {
  name = 'IncrementalAggregation1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE feed ADD COLUMN exchange_id bigint`);
    await q.query(`
      CREATE TABLE feed_slice (
        grp text NOT NULL,
        source text NOT NULL,
        feed_id text COLLATE "C" NOT NULL,
        seq bigint NOT NULL,
        period text NOT NULL,
        exchange_id bigint,
        observation_count integer NOT NULL,
        payload text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (grp, source, feed_id)
      )`);
    // Slices are large (tens of kB) and written once: stored out of line uncompressed, since
    // pglz costs more CPU than the disk it saves here.
    await q.query(`ALTER TABLE feed_slice ALTER COLUMN payload SET STORAGE EXTERNAL`);
    await q.query(`CREATE INDEX feed_slice_replay ON feed_slice (grp, seq)`);
    await q.query(`
      CREATE TABLE aggregation_group (
        grp text PRIMARY KEY,
        applied_seq bigint NOT NULL DEFAULT 0,
        published_seq bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE relay_position (
        topic text PRIMARY KEY,
        last_id bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`ALTER TABLE kpi_change ADD COLUMN flush_id bigint`);
    // The audit log lists the first 100 keys an exchange changed, and counts them all.
    await q.query(`ALTER TABLE exchange ADD COLUMN kpi_key_count integer`);
    await q.query(
      `UPDATE exchange SET kpi_key_count = cardinality(kpi_keys) WHERE kpi_keys IS NOT NULL`,
    );
    await q.query(`CREATE SEQUENCE kpi_flush_id`);
    await q.query(`DROP INDEX kpi_change_key`);

    // Current observations -> slices of the feeds that won them. The 2025 reform's crosswalk:
    // every 2008 province went whole into one 2025 province (data/admin-units).
    await q.query(`
      CREATE TEMPORARY TABLE crosswalk (old text PRIMARY KEY, new text NOT NULL) ON COMMIT DROP`);
    await q.query(
      `INSERT INTO crosswalk VALUES ${CROSSWALK.map(([o, n]) => `('${o}', '${n}')`).join(', ')}`,
    );
    await q.query(`
      INSERT INTO feed_slice (grp, source, feed_id, seq, period, exchange_id, observation_count,
                              payload)
      SELECT s.grp, s.source, s.feed_id,
             row_number() OVER (PARTITION BY s.grp ORDER BY f.sent_at, s.feed_id),
             f.period, (f.origin->>'exchangeId')::bigint, s.n,
             json_build_object(
               'schema', 'lgsp.feed-slice.v1', 'group', s.grp, 'source', s.source,
               'feedId', s.feed_id,
               'sentAt', to_char(f.sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'period', f.period, 'status', f.status,
               'receivedAt', to_char(f.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'origin', f.origin, 'part', 1, 'parts', 1, 'observations', s.observations)::text
        FROM (SELECT CASE WHEN split_part(o.province_node, ':', 1) = '2025'
                          THEN split_part(o.province_node, ':', 2) ELSE c.new END AS grp,
                     o.source, o.feed_id, count(*)::int AS n,
                     json_agg(CASE
                       WHEN o.retracted AND o.items IS NULL AND o.value IS NULL THEN
                         json_build_object('area', o.area, 'measure', o.measure, 'value', NULL)
                       WHEN o.items IS NOT NULL THEN
                         json_strip_nulls(json_build_object('area', o.area, 'measure', o.measure,
                           'items', to_json(o.items), 'qualifier', o.qualifier))
                       ELSE json_strip_nulls(json_build_object('area', o.area, 'measure', o.measure,
                           'value', o.value, 'qualifier', o.qualifier)) END
                       ORDER BY o.area, o.measure) AS observations
                FROM observation o
                LEFT JOIN crosswalk c ON c.old = split_part(o.province_node, ':', 2)
               GROUP BY 1, o.source, o.feed_id) s
        JOIN feed f ON f.source = s.source AND f.feed_id = s.feed_id`);
    await q.query(`
      INSERT INTO aggregation_group (grp, applied_seq, published_seq)
      SELECT grp, max(seq), max(seq) FROM feed_slice GROUP BY grp`);
    // The relay resumes at the oldest event the outbox had not published.
    await q.query(`
      INSERT INTO relay_position (topic, last_id)
      SELECT 'lgsp.kpi.v1', coalesce(
        (SELECT min(c.id) - 1 FROM kpi_change c JOIN outbox o
            ON o.key = c.kpi || '|' || c.area || '|' || c.period
           AND (o.payload::json->>'revision')::int = c.revision
         WHERE o.published_at IS NULL),
        (SELECT max(id) FROM kpi_change), 0)`);
    await q.query(`DROP TABLE outbox`);
    await q.query(`DROP TABLE observation`);

    // The change log becomes the one store of KPI revisions: the current state of a key is
    // its latest revision (view kpi_value). A key whose revision has no change-log row (none
    // should) gets one from kpi_value now.
    await q.query(`
      INSERT INTO kpi_change (kpi, area, period, revision, payload)
      SELECT v.kpi, v.area, v.period, v.revision, (json_strip_nulls(json_build_object(
               'schema', 'lgsp.kpi.v1', 'eventId', v.event_id, 'kpi', v.kpi, 'area', v.area,
               'areaName', v.area_name, 'period', v.period, 'unit', v.unit, 'status', v.status,
               'note', v.note, 'yearToDate', v.year_to_date))::jsonb
             || jsonb_build_object('value', v.value, 'numerator', v.numerator,
                  'denominator', v.denominator, 'denominatorPeriod', v.denominator_period,
                  'completeness', v.completeness, 'revision', v.revision, 'inputs', v.inputs,
                  'computedAt', to_char(v.computed_at AT TIME ZONE 'UTC',
                                        'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))::text
        FROM kpi_value v
       WHERE NOT EXISTS (SELECT 1 FROM kpi_change c WHERE c.kpi = v.kpi AND c.area = v.area
                            AND c.period = v.period AND c.revision = v.revision)`);
    await q.query(`
      DELETE FROM kpi_change c USING kpi_change d
       WHERE c.kpi = d.kpi AND c.area = d.area AND c.period = d.period
         AND c.revision = d.revision AND c.id > d.id`);
    await q.query(`DROP TABLE kpi_value`);
    await q.query(`CREATE UNIQUE INDEX kpi_change_key ON kpi_change (kpi, area, period, revision)`);
    await q.query(`CREATE INDEX kpi_change_area ON kpi_change (area, period, kpi, revision)`);
    await q.query(`
      CREATE VIEW kpi_value AS
      SELECT DISTINCT ON (kpi, area, period)
             kpi, area, period, ${BOUNDARY_SET_OF_PERIOD} AS bs, left(period, 4)::int AS year,
             (payload::json->>'value')::float8 AS value,
             (payload::json->>'numerator')::float8 AS numerator,
             (payload::json->>'denominator')::float8 AS denominator,
             payload::json->>'status' AS status, payload::json->'completeness' AS completeness,
             revision, id AS change_id, payload
        FROM kpi_change ORDER BY kpi, area, period, revision DESC`);
  }

  async down(): Promise<void> {
    throw new Error(
      'IncrementalAggregation1764100000000 cannot be reverted: observations now live in slices',
    );
  }
}

/** The boundary set of a period's code, in SQL: the one valid on its last day (REFORM_DATE). */
export const BOUNDARY_SET_OF_PERIOD = `CASE
  WHEN left(period, 4) < '2025' THEN '2008' WHEN left(period, 4) > '2025' THEN '2025'
  WHEN period IN ('2025-01', '2025-02', '2025-03', '2025-04', '2025-05', '2025-06',
                  '2025-Q1', '2025-Q2', '2025-H1') THEN '2008' ELSE '2025' END`;

/** 2008 province -> the 2025 province it went into (data/admin-units/province-crosswalk-2025.csv). */
export const CROSSWALK: readonly (readonly [string, string])[] = [
  ['01', '01'],
  ['02', '08'],
  ['04', '04'],
  ['06', '19'],
  ['08', '08'],
  ['10', '15'],
  ['11', '11'],
  ['12', '12'],
  ['14', '14'],
  ['15', '15'],
  ['17', '25'],
  ['19', '19'],
  ['20', '20'],
  ['22', '22'],
  ['24', '24'],
  ['25', '25'],
  ['26', '25'],
  ['27', '24'],
  ['30', '31'],
  ['31', '31'],
  ['33', '33'],
  ['34', '33'],
  ['35', '37'],
  ['36', '37'],
  ['37', '37'],
  ['38', '38'],
  ['40', '40'],
  ['42', '42'],
  ['44', '44'],
  ['45', '44'],
  ['46', '46'],
  ['48', '48'],
  ['49', '48'],
  ['51', '51'],
  ['52', '52'],
  ['54', '66'],
  ['56', '56'],
  ['58', '56'],
  ['60', '68'],
  ['62', '51'],
  ['64', '52'],
  ['66', '66'],
  ['67', '68'],
  ['68', '68'],
  ['70', '75'],
  ['72', '80'],
  ['74', '79'],
  ['75', '75'],
  ['77', '79'],
  ['79', '79'],
  ['80', '80'],
  ['82', '82'],
  ['83', '86'],
  ['84', '86'],
  ['86', '86'],
  ['87', '82'],
  ['89', '91'],
  ['91', '91'],
  ['92', '92'],
  ['93', '92'],
  ['94', '92'],
  ['95', '96'],
  ['96', '96'],
];
