import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * People and roles over HTTP (issue 24): named API tokens, stored as their SHA-256 only, with
 * a role (`admin`, `ops`, `reader`), for a reader optionally the provinces it may read, an
 * expiry and a revocation; and the log of every admin action, who did what to what, with the
 * state before and after.
 */
export class PeopleAndRoles1764300000000 implements MigrationInterface {
  name = 'PeopleAndRoles1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_token (
        id bigserial PRIMARY KEY,
        name text NOT NULL,
        role text NOT NULL CHECK (role IN ('admin', 'ops', 'reader')),
        provinces text[],
        token_sha256 bytea NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        created_by text NOT NULL,
        expires_at timestamptz,
        revoked_at timestamptz,
        replaced_by bigint REFERENCES api_token (id),
        last_used_at timestamptz
      )`);
    await q.query(`
      CREATE TABLE admin_action (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        action text NOT NULL,
        target text,
        before jsonb,
        after jsonb
      )`);
    await q.query(`CREATE INDEX admin_action_target ON admin_action (target, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE admin_action`);
    await q.query(`DROP TABLE api_token`);
  }
}
