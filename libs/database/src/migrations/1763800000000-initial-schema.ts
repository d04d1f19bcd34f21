import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1763800000000 implements MigrationInterface {
  name = 'InitialSchema1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE feed (
        source text NOT NULL,
        feed_id text COLLATE "C" NOT NULL,
        sent_at timestamptz NOT NULL,
        period text NOT NULL,
        status text NOT NULL,
        observation_count integer NOT NULL,
        received_at timestamptz NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        origin jsonb NOT NULL,
        PRIMARY KEY (source, feed_id)
      )`);
    await q.query(`
      CREATE TABLE observation (
        source text NOT NULL,
        measure text NOT NULL,
        area text NOT NULL,
        period text NOT NULL,
        bs text NOT NULL,
        province_node text NOT NULL,
        year integer NOT NULL,
        value double precision,
        items text[],
        retracted boolean NOT NULL,
        qualifier text,
        status text NOT NULL,
        feed_id text COLLATE "C" NOT NULL,
        sent_at timestamptz NOT NULL,
        PRIMARY KEY (source, measure, area, period)
      )`);
    await q.query(
      `CREATE INDEX observation_province_measure ON observation (province_node, measure)`,
    );
    await q.query(`
      CREATE TABLE kpi_value (
        kpi text NOT NULL,
        area text NOT NULL,
        period text NOT NULL,
        bs text NOT NULL,
        year integer NOT NULL,
        area_name text NOT NULL,
        unit text NOT NULL,
        value double precision,
        numerator double precision,
        denominator double precision,
        denominator_period text,
        status text NOT NULL,
        completeness jsonb NOT NULL,
        inputs jsonb NOT NULL,
        note text,
        revision integer NOT NULL,
        event_id uuid NOT NULL,
        computed_at timestamptz NOT NULL,
        PRIMARY KEY (kpi, area, period)
      )`);
    await q.query(`CREATE INDEX kpi_value_area_period ON kpi_value (area, period)`);
    await q.query(`CREATE INDEX kpi_value_bs_area_year ON kpi_value (bs, area, year)`);
    await q.query(`
      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        topic text NOT NULL,
        key text NOT NULL,
        payload text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz
      )`);
    await q.query(`CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE outbox`);
    await q.query(`DROP TABLE kpi_value`);
    await q.query(`DROP TABLE observation`);
    await q.query(`DROP TABLE feed`);
  }
}
