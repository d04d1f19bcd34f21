import type { MigrationInterface, QueryRunner } from 'typeorm';
import { BOUNDARY_SET_OF_PERIOD } from './1764100000000-incremental-aggregation.js';
import { valueView } from './1764400000000-rebased-history.js';

/**
 * Official figures (issue 27). `approval`: each (boundary set, province, period) that was ever
 * moved, its state and who moved it when (a quarter's months get rows of their own, `via` the
 * quarter). `kpi_official`: the figures an approval made official, per key, until re-opened.
 * `kpi_change.official`: the event's figure is an approved one (the warehouse's official
 * feed). `aggregation_group.approval_seq`: a move re-publishes its keys under the group's
 * lock; the aggregator holding the group then reloads it (revisions moved on). The role
 * `approver`, for some provinces, may move them; every move is in `admin_action`.
 */
export class OfficialFigures1764500000000 implements MigrationInterface {
  name = 'OfficialFigures1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_token DROP CONSTRAINT api_token_role_check`);
    await q.query(`
      ALTER TABLE api_token ADD CONSTRAINT api_token_role_check
        CHECK (role IN ('admin', 'ops', 'reader', 'approver'))`);
    await q.query(
      `ALTER TABLE aggregation_group ADD COLUMN approval_seq bigint NOT NULL DEFAULT 0`,
    );
    await q.query(`ALTER TABLE kpi_change ADD COLUMN official boolean NOT NULL DEFAULT false`);
    await q.query(`CREATE INDEX kpi_change_official ON kpi_change (id) WHERE official`);
    await q.query(valueView('kpi_value', 'NOT rebased', BOUNDARY_SET_OF_PERIOD, ', official'));
    await q.query(`
      CREATE TABLE approval (
        bs text NOT NULL CHECK (bs IN ('2008', '2025')),
        area text NOT NULL,
        period text NOT NULL,
        grp text NOT NULL,
        state text NOT NULL CHECK (state IN ('open', 'submitted', 'approved')),
        via text NOT NULL,
        moved_by text NOT NULL,
        moved_at timestamptz NOT NULL,
        reason text,
        PRIMARY KEY (bs, area, period)
      )`);
    await q.query(`CREATE INDEX approval_grp ON approval (grp)`);
    await q.query(`
      CREATE TABLE kpi_official (
        bs text NOT NULL,
        area text NOT NULL,
        period text NOT NULL,
        kpi text NOT NULL,
        grp text NOT NULL,
        revision integer NOT NULL,
        figure jsonb NOT NULL,
        PRIMARY KEY (bs, area, period, kpi)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE kpi_official`);
    await q.query(`DROP TABLE approval`);
    await q.query(`DROP VIEW kpi_value`);
    await q.query(
      valueView('kpi_value', 'NOT rebased', BOUNDARY_SET_OF_PERIOD).replace(
        'CREATE OR REPLACE VIEW',
        'CREATE VIEW',
      ),
    );
    await q.query(`DROP INDEX kpi_change_official`);
    await q.query(`ALTER TABLE kpi_change DROP COLUMN official`);
    await q.query(`ALTER TABLE aggregation_group DROP COLUMN approval_seq`);
    await q.query(`DELETE FROM api_token WHERE role = 'approver'`);
    await q.query(`ALTER TABLE api_token DROP CONSTRAINT api_token_role_check`);
    await q.query(`
      ALTER TABLE api_token ADD CONSTRAINT api_token_role_check
        CHECK (role IN ('admin', 'ops', 'reader'))`);
  }
}
