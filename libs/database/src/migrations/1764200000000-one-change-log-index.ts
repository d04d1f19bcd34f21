import type { MigrationInterface, QueryRunner } from 'typeorm';
import { BOUNDARY_SET_OF_PERIOD } from './1764100000000-incremental-aggregation.js';

/**
 * The change log keeps one index besides its primary key: `(area, period, kpi, revision)`,
 * unique, in place of the unique `(kpi, area, period, revision)` and the plain
 * `(area, period, kpi, revision)`, which held the same keys in two orders. A backfill appends
 * a million revisions, and each index is a B-tree insert per row on the one session that
 * writes the log: on Hồ Chí Minh City's group (`bench/profile/apply-one-province.mjs 79`) a
 * flush of 39,368 events took 1,294-1,299 ms with one, 1,467-1,628 ms with both.
 * Every read names an area (the API, a group's published state) or reads the whole log, so
 * `kpi_value` now takes each key's latest revision in the index's order.
 */
export class OneChangeLogIndex1764200000000 implements MigrationInterface {
  name = 'OneChangeLogIndex1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX kpi_change_key`);
    await q.query(`DROP INDEX kpi_change_area`);
    await q.query(`CREATE UNIQUE INDEX kpi_change_key ON kpi_change (area, period, kpi, revision)`);
    await q.query(kpiValueView('area, period, kpi'));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(kpiValueView('kpi, area, period'));
    await q.query(`DROP INDEX kpi_change_key`);
    await q.query(`CREATE UNIQUE INDEX kpi_change_key ON kpi_change (kpi, area, period, revision)`);
    await q.query(`CREATE INDEX kpi_change_area ON kpi_change (area, period, kpi, revision)`);
  }
}

/** Each key's latest revision, the keys taken in `order`. */
function kpiValueView(order: string): string {
  return `
    CREATE OR REPLACE VIEW kpi_value AS
    SELECT DISTINCT ON (${order})
           kpi, area, period, ${BOUNDARY_SET_OF_PERIOD} AS bs, left(period, 4)::int AS year,
           (payload::json->>'value')::float8 AS value,
           (payload::json->>'numerator')::float8 AS numerator,
           (payload::json->>'denominator')::float8 AS denominator,
           payload::json->>'status' AS status, payload::json->'completeness' AS completeness,
           revision, id AS change_id, payload
      FROM kpi_change ORDER BY ${order}, revision DESC`;
}
