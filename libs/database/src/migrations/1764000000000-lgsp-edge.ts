import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The LGSP edge: the source registry (what each source may send, its mapping profile, its
 * API keys), the audit log of every exchange, and the index of the DLQ that lets ops list,
 * inspect and replay rejected feeds. The registry starts with contract v1's sources.
 */
export class LgspEdge1764000000000 implements MigrationInterface {
  name = 'LgspEdge1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE source (
        id text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
        kind text NOT NULL CHECK (kind IN ('operator', 'agency')),
        display_name text NOT NULL,
        measures text[] NOT NULL,
        areas text[],
        expects text[],
        reports_every text NOT NULL,
        due_days integer NOT NULL,
        active boolean NOT NULL DEFAULT true,
        mapping jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE source_key (
        id text PRIMARY KEY,
        source_id text NOT NULL REFERENCES source (id),
        secret_sha256 bytea NOT NULL,
        label text,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    await q.query(`
      CREATE TABLE exchange (
        id bigserial PRIMARY KEY,
        received_at timestamptz NOT NULL DEFAULT now(),
        channel text NOT NULL,
        source text,
        feed_id text,
        topic text,
        partition integer,
        "offset" bigint,
        size_bytes integer NOT NULL,
        content_sha256 text,
        outcome text NOT NULL,
        error_code text,
        errors jsonb,
        observations integer,
        kpi_keys text[],
        replay_of bigint,
        decided_at timestamptz,
        UNIQUE (topic, partition, "offset")
      )`);
    await q.query(`CREATE INDEX exchange_source_time ON exchange (source, received_at)`);
    await q.query(`CREATE INDEX exchange_time ON exchange (received_at)`);
    await q.query(`
      CREATE TABLE dlq_entry (
        id bigserial PRIMARY KEY,
        exchange_id bigint UNIQUE REFERENCES exchange (id),
        source text,
        feed_id text,
        topic text,
        key text,
        payload bytea NOT NULL,
        replayable boolean NOT NULL,
        error_code text NOT NULL,
        errors jsonb NOT NULL,
        rejected_by text NOT NULL,
        rejected_at timestamptz NOT NULL DEFAULT now(),
        replays integer NOT NULL DEFAULT 0,
        last_replayed_at timestamptz
      )`);
    await q.query(`CREATE INDEX dlq_entry_source ON dlq_entry (source, rejected_at)`);
    await q.query(
      `INSERT INTO source (id, kind, display_name, measures, areas, reports_every, due_days)
       VALUES
         ('viettel', 'operator', 'Viettel', $1, NULL, 'month', 15),
         ('vnpt', 'operator', 'VNPT', $1, NULL, 'month', 15),
         ('mobifone', 'operator', 'MobiFone', $1, NULL, 'month', 15),
         ('vietnamobile', 'operator', 'Vietnamobile', $1, NULL, 'month', 15),
         ('gso', 'agency', 'General Statistics Office', $2, NULL, 'year', 90),
         ('vnnic', 'agency', 'VNNIC speed-test authority', $3, NULL, 'quarter', 30)`,
      [
        [
          'mobile_subscriptions',
          'mbb_subscriptions',
          'smartphone_subscriptions',
          'fbb_subscriptions',
          'ftth_household_subscriptions',
          'villages_mbb_covered',
          'villages_ftth_covered',
          'bts_sites',
          'telecom_revenue_vnd',
        ],
        [
          'population',
          'adult_population',
          'households',
          'villages_total',
          'adults_with_smartphone',
        ],
        ['mbb_download_mbps', 'fbb_download_mbps'],
      ],
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE dlq_entry`);
    await q.query(`DROP TABLE exchange`);
    await q.query(`DROP TABLE source_key`);
    await q.query(`DROP TABLE source`);
  }
}
