import type { MigrationInterface, QueryRunner } from 'typeorm';
import { BOUNDARY_SET_OF_PERIOD } from './1764100000000-incremental-aggregation.js';

/**
 * Contract v1.1 (issue 25). Every event names its unit's boundary set (`areaSet`), and the
 * change log also holds re-based history: a 2025 province's figures for periods before the
 * reform (`rebased`), published on `lgsp.kpi.rebased.v1`. Such a key shares its code and
 * period with an old province's (37 was old Ninh Bình and is new Ninh Bình), so each kind has
 * its own unique index, partial, of the same shape as before: `kpi_value` (published figures)
 * reads exactly as it did, and `kpi_rebased_value` reads the re-based ones.
 *
 * Events written before carry no `areaSet`: it is added to them here, from their period (an
 * event's unit is in the boundary set of its period's last day).
 */
export class RebasedHistory1764400000000 implements MigrationInterface {
  name = 'RebasedHistory1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE kpi_change ADD COLUMN rebased boolean NOT NULL DEFAULT false`);
    await q.query(`
      UPDATE kpi_change
         SET payload = replace(payload, ',"areaName":',
                               ',"areaSet":"' || ${BOUNDARY_SET_OF_PERIOD} || '","areaName":')
       WHERE strpos(payload, '"areaSet":') = 0`);
    await q.query(`DROP INDEX kpi_change_key`);
    await q.query(`
      CREATE UNIQUE INDEX kpi_change_key ON kpi_change (area, period, kpi, revision)
       WHERE NOT rebased`);
    await q.query(`
      CREATE UNIQUE INDEX kpi_rebased_key ON kpi_change (area, period, kpi, revision)
       WHERE rebased`);
    await q.query(valueView('kpi_value', 'NOT rebased', BOUNDARY_SET_OF_PERIOD));
    await q.query(valueView('kpi_rebased_value', 'rebased', `'2025'`));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW kpi_rebased_value`);
    await q.query(`DELETE FROM kpi_change WHERE rebased`);
    await q.query(`DROP INDEX kpi_rebased_key`);
    await q.query(`DROP INDEX kpi_change_key`);
    await q.query(`CREATE UNIQUE INDEX kpi_change_key ON kpi_change (area, period, kpi, revision)`);
    await q.query(`DROP VIEW kpi_value`);
    await q.query(`ALTER TABLE kpi_change DROP COLUMN rebased`);
    await q.query(
      valueView('kpi_value', 'true', BOUNDARY_SET_OF_PERIOD).replace(
        'CREATE OR REPLACE VIEW',
        'CREATE VIEW',
      ),
    );
  }
}

/**
 * Each key's latest revision among the rows `which` selects, in the index's order; `more`:
 * columns a later migration appends.
 */
export function valueView(name: string, which: string, bs: string, more = ''): string {
  return `
    CREATE OR REPLACE VIEW ${name} AS
    SELECT DISTINCT ON (area, period, kpi)
           kpi, area, period, ${bs} AS bs, left(period, 4)::int AS year,
           (payload::json->>'value')::float8 AS value,
           (payload::json->>'numerator')::float8 AS numerator,
           (payload::json->>'denominator')::float8 AS denominator,
           payload::json->>'status' AS status, payload::json->'completeness' AS completeness,
           revision, id AS change_id, payload${more}
      FROM kpi_change WHERE ${which} ORDER BY area, period, kpi, revision DESC`;
}
