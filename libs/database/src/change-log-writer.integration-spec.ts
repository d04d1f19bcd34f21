/**
 * The change log is written with one COPY per writer, a buffer at a time, each written to the
 * socket while the next fills: every row must arrive once, in order, byte for byte, whatever
 * its text holds, and a refused COPY must fail the caller's transaction, not vanish.
 */
import { freshDatabase } from '@app/testing';
import type { PoolClient } from 'pg';
import type { DataSource, QueryRunner } from 'typeorm';
import { ChangeLogWriter } from './change-log-writer.js';
import { createDataSource, runMigrations } from './data-source.js';

let ds: DataSource;
let q: QueryRunner;
let client: PoolClient;

beforeAll(async () => {
  ds = await createDataSource(await freshDatabase('it_change_log')).initialize();
  await runMigrations(ds);
  q = ds.createQueryRunner();
  client = (await q.connect()) as PoolClient;
});
afterAll(async () => {
  await q?.release();
  await ds?.destroy();
});
beforeEach(() => q.query('TRUNCATE kpi_change RESTART IDENTITY'));

const stored = (): Promise<
  { kpi: string; area: string; period: string; revision: number; payload: string; flush: string }[]
> =>
  q.query(
    `SELECT kpi, area, period, revision, payload, flush_id::text AS flush FROM kpi_change ORDER BY id`,
  );

describe('ChangeLogWriter', () => {
  it('stores 5,000 rows in the order added, over many writes, with their flush id', async () => {
    await q.startTransaction();
    // 16 kB per write: about 70 for these rows, each sent while the next fills.
    const w = new ChangeLogWriter(client, { flushId: 42, lastId: 0, sendBytes: 16_384 });
    for (let i = 0; i < 5_000; i++) {
      const payload = JSON.stringify({ i, areaName: 'Hà Nội', pad: 'x'.repeat(i % 300) });
      await w.add('MBB_SUB_P100', String(10_000 + i), '2024-06', 1 + (i % 3), payload);
    }
    await w.end();
    await q.commitTransaction();
    const rows = await stored();
    expect(w.rows).toBe(5_000);
    expect(rows).toHaveLength(5_000);
    expect(rows.map((r) => JSON.parse(r.payload).i)).toEqual([...Array(5_000).keys()]);
    expect(rows[4_999]).toEqual({
      kpi: 'MBB_SUB_P100',
      area: '14999',
      period: '2024-06',
      revision: 2,
      payload: JSON.stringify({ i: 4_999, areaName: 'Hà Nội', pad: 'x'.repeat(4_999 % 300) }),
      flush: '42',
    });
  });

  it('grows its buffers from 64 kB to the 1 MB it sends at a time, and fills them again once written: 20,000 events of 1 kB', async () => {
    const w = new ChangeLogWriter(client, { flushId: 9, lastId: 0 });
    // Each row's text differs from its neighbours', so a buffer filled again before the
    // socket had taken all of it would show as rows of the wrong text.
    const payload = (i: number): string =>
      JSON.stringify({ i, pad: `${i % 7 ? 'Hà Nội' : 'Đắk Lắk'} `.repeat(120 + (i % 40)) });
    for (let i = 0; i < 20_000; i++) await w.add('FBB_SUB_P100', String(i), '2024', 1, payload(i));
    await w.end();
    const rows = await stored();
    expect(rows).toHaveLength(20_000);
    const wrong = rows.filter((r, i) => r.payload !== payload(i) || r.area !== String(i));
    expect(wrong.map((r) => r.area)).toEqual([]);
  });

  it('keeps backslashes, tabs, line breaks and every script of the text as they were', async () => {
    const payload = JSON.stringify({ note: 'a "quoted" \\ note\twith\nbreaks\r' });
    expect(payload).toContain('\\\\');
    const other = JSON.stringify(['C:\\', '\\\\', 'Hà Nội', 'Đắk Lắk 🏔', '\u0000']);
    const w = new ChangeLogWriter(client, { flushId: 1, lastId: 0 });
    await w.add('K\\1', 'a\tb', 'p\nq', 1, payload);
    await w.add('K', 'raw\ttab', '2024', 2, other);
    await w.end();
    expect(await stored()).toEqual([
      { kpi: 'K\\1', area: 'a\tb', period: 'p\nq', revision: 1, payload, flush: '1' },
      {
        kpi: 'K',
        area: 'raw\ttab',
        period: '2024',
        revision: 2,
        payload: other,
        flush: '1',
      },
    ]);
  });

  it('fails the transaction when PostgreSQL refuses a COPY (a revision written twice)', async () => {
    await q.startTransaction();
    const w = new ChangeLogWriter(client, { flushId: 7, lastId: 0, sendBytes: 1 });
    await w.add('MBB_SUB_P100', '01', '2024', 1, '{}');
    await w.add('MBB_SUB_P100', '01', '2024', 1, '{}');
    await expect(w.end()).rejects.toThrow(/duplicate key value violates unique constraint/);
    await q.rollbackTransaction();
    expect(await stored()).toEqual([]);
  });

  it('reports a row refused mid-stream at a later write or at the end, and stores none', async () => {
    await q.startTransaction();
    const w = new ChangeLogWriter(client, { flushId: 8, lastId: 0, sendBytes: 1_024 });
    const write = async (): Promise<void> => {
      await w.add('MBB_SUB_P100', '01', '2024', 1, '{}');
      await w.add('MBB_SUB_P100', '01', '2024', 1, '{}');
      // Hundreds of writes after the refused row: none may hang or hide why the COPY failed.
      for (let i = 0; i < 2_000; i++)
        await w.add(
          'MBB_SUB_P100',
          String(i),
          '2024',
          2,
          JSON.stringify({ i, pad: 'x'.repeat(200) }),
        );
      await w.end();
    };
    await expect(write()).rejects.toThrow(/duplicate key value violates unique constraint/);
    await q.rollbackTransaction();
    expect(await stored()).toEqual([]);
  });

  it('numbers its rows after the last id, across writes, and moves the id sequence past them', async () => {
    await q.startTransaction();
    // 8 kB per write: some 30 for these rows.
    const w = new ChangeLogWriter(client, { flushId: 5, lastId: 1_000, sendBytes: 8_192 });
    for (let i = 0; i < 300; i++)
      await w.add('FBB_SUB_P100', `7${i}`, '2024-Q2', 1 + (i % 2), `{"i":${i},"n":"Hồ Chí Minh"}`);
    await w.end();
    await q.commitTransaction();
    const rows: { id: string; key: string; payload: string }[] = await q.query(
      `SELECT id::text AS id, kpi || '|' || area || '|' || period AS key, payload
         FROM kpi_change ORDER BY id`,
    );
    expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 300 }, (_, i) => String(1_001 + i)));
    expect(w.lastId).toBe(1_300);
    // anything inserting with the column's default comes after the writer's rows
    const [next]: { id: string }[] = await q.query(
      `SELECT nextval('kpi_change_id_seq')::text AS id`,
    );
    expect(next!.id).toBe('1301');

    // every row as added, across the writes' boundaries
    expect(rows.map((r) => [r.key, r.payload])).toEqual(
      Array.from({ length: 300 }, (_, i) => [
        `FBB_SUB_P100|7${i}|2024-Q2`,
        `{"i":${i},"n":"Hồ Chí Minh"}`,
      ]),
    );
  });
});
