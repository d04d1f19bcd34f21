/**
 * Contract v1.1 on a database that already holds events: the migration names each stored
 * event's unit (`areaSet`, from its period), and re-based history then lives beside the
 * published figures under the same codes.
 */
import { freshDatabase } from '@app/testing';
import type { DataSource } from 'typeorm';
import { createDataSource, runMigrations } from '../data-source.js';

let ds: DataSource;

beforeAll(async () => {
  ds = await createDataSource(await freshDatabase('it_rebased_migration')).initialize();
  await runMigrations(ds);
});
afterAll(async () => {
  await ds?.destroy();
});

const payload = (area: string, period: string, revision: number) =>
  JSON.stringify({
    schema: 'lgsp.kpi.v1',
    eventId: `e-${period}-${revision}`,
    kpi: 'MBB_SUB_P100',
    area,
    areaName: 'Ninh Bình',
    period,
    value: revision,
    note: 'a note that says ,"areaName": inside a string',
    revision,
  });

describe('migration RebasedHistory1764400000000', () => {
  it('adds areaSet to events stored before it, from their period, and nothing else', async () => {
    // the migrations after it first (each undone in turn), then it
    await ds.undoLastMigration({ transaction: 'all' });
    await ds.undoLastMigration({ transaction: 'all' });
    const rows = [
      ['37', '2024', 1],
      ['37', '2025-H1', 1],
      ['37', '2025-09', 1],
      ['37', '2025-09', 2],
    ] as const;
    for (const [area, period, revision] of rows)
      await ds.query(
        `INSERT INTO kpi_change (kpi, area, period, revision, payload) VALUES ($1, $2, $3, $4, $5)`,
        ['MBB_SUB_P100', area, period, revision, payload(area, period, revision)],
      );
    expect(await runMigrations(ds)).toEqual([
      'RebasedHistory1764400000000',
      'OfficialFigures1764500000000',
    ]);

    const stored: { period: string; payload: string }[] = await ds.query(
      `SELECT period, payload FROM kpi_change ORDER BY id`,
    );
    expect(stored.map((r) => [r.period, JSON.parse(r.payload).areaSet])).toEqual([
      ['2024', '2008'],
      ['2025-H1', '2008'],
      ['2025-09', '2025'],
      ['2025-09', '2025'],
    ]);
    expect(JSON.parse(stored[0]!.payload)).toEqual({
      ...JSON.parse(payload('37', '2024', 1)),
      areaSet: '2008',
    });
  });

  it('keeps re-based history apart: same code and period, its own revisions and view', async () => {
    await ds.query(
      `INSERT INTO kpi_change (kpi, area, period, revision, payload, rebased)
       VALUES ('MBB_SUB_P100', '37', '2024', 1, '{"rebased":1}', true),
              ('MBB_SUB_P100', '37', '2024', 2, '{"rebased":2}', true)`,
    );
    const published = await ds.query(
      `SELECT bs, revision FROM kpi_value WHERE area = '37' AND period = '2024'`,
    );
    const rebased = await ds.query(
      `SELECT bs, revision, payload FROM kpi_rebased_value WHERE area = '37' AND period = '2024'`,
    );
    expect(published).toEqual([{ bs: '2008', revision: 1 }]);
    expect(rebased).toEqual([{ bs: '2025', revision: 2, payload: '{"rebased":2}' }]);
    await expect(
      ds.query(
        `INSERT INTO kpi_change (kpi, area, period, revision, payload, rebased)
         VALUES ('MBB_SUB_P100', '37', '2024', 2, '{}', true)`,
      ),
    ).rejects.toThrow(/kpi_rebased_key/);
  });
});
