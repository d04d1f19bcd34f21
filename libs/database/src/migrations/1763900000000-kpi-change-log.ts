import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every published KPI revision, in commit order: the cursor of `GET /v1/kpi-changes`, so a
 * warehouse loads what changed since its last run without reading Kafka. Plan targets, and
 * the year to date that flow KPIs are measured by against annual targets.
 */
export class KpiChangeLog1763900000000 implements MigrationInterface {
  name = 'KpiChangeLog1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE kpi_change (
        id bigserial PRIMARY KEY,
        kpi text NOT NULL,
        area text NOT NULL,
        period text NOT NULL,
        revision integer NOT NULL,
        payload text NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX kpi_change_key ON kpi_change (kpi, area, period, revision)`);
    await q.query(`ALTER TABLE kpi_value ADD COLUMN year_to_date double precision`);
    await q.query(`
      CREATE TABLE plan_target (
        id bigserial PRIMARY KEY,
        plan_id text NOT NULL,
        issuing_body text NOT NULL,
        document_number text NOT NULL,
        bs text NOT NULL,
        area text NOT NULL,
        kpi text NOT NULL,
        target_period text NOT NULL,
        target_value double precision NOT NULL,
        comparison text NOT NULL,
        note text,
        loaded_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (plan_id, bs, area, kpi, target_period)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE plan_target`);
    await q.query(`ALTER TABLE kpi_value DROP COLUMN year_to_date`);
    await q.query(`DROP TABLE kpi_change`);
  }
}
