/**
 * A group loading after a restart reads the published state of its keys from the change log:
 * each key's latest revision, once, of the right boundary set, a page at a time.
 */
import { serializeKpiEvent } from '@app/contract';
import { freshDatabase } from '@app/testing';
import type { PoolClient } from 'pg';
import type { DataSource, QueryRunner } from 'typeorm';
import { ChangeLogWriter } from './change-log-writer.js';
import { createDataSource, runMigrations } from './data-source.js';
import { KpiStore, type PublishedRow } from './kpi-store.js';

let ds: DataSource;
let q: QueryRunner;

beforeAll(async () => {
  ds = await createDataSource(await freshDatabase('it_kpi_store')).initialize();
  await runMigrations(ds);
  q = ds.createQueryRunner();
  const client = (await q.connect()) as PoolClient;
  const w = new ChangeLogWriter(client, { flushId: 1, lastId: 0 });
  // Events as the aggregator writes them, with inputs (whose feed ids may hold any text) and
  // a note after them: the load reads the payload up to `inputs` only.
  const event = (area: string, period: string, revision: number) =>
    serializeKpiEvent({
      kpi: 'MBB_SUB_P100',
      area,
      period,
      bs: period < '2025-07' ? '2008' : '2025',
      year: Number(period.slice(0, 4)),
      areaName: 'Ninh Bình',
      unit: 'per_100_inhabitants',
      value: (100 * revision) / 10,
      numerator: 100 * revision,
      denominator: 1000,
      denominatorPeriod: '2024',
      status: 'provisional',
      completeness: { expected: ['viettel', 'vnpt'], reported: ['viettel'] },
      inputs: [{ source: 'viettel', feedId: `vt-${revision}","inputs":[{"x":"}`, measure: 'mbb' }],
      note: 'a note, "inputs":[ and all',
      yearToDate: null,
      revision,
      eventId: `e-${area}-${period}-${revision}`,
      computedAt: '2024-07-05T08:00:02.114Z',
    });
  // 30 communes of Ninh Bình (2008), two periods, three revisions each; and a 2025 key of
  // province code 37, which the 2008 province 37 does not share.
  const areas = Array.from({ length: 30 }, (_, i) => String(14_350 + i));
  for (const revision of [1, 2, 3])
    for (const area of areas)
      for (const period of ['2024-05', '2024-06'])
        await w.add('MBB_SUB_P100', area, period, revision, event(area, period, revision));
  // An event stored without inputs (none of the hub's, but the load must not depend on them).
  const bare = {
    kpi: 'MBB_SUB_P100',
    area: '37',
    period: '2025-09',
    numerator: 5,
    denominator: 10,
  };
  await w.add(
    'MBB_SUB_P100',
    '37',
    '2025-09',
    1,
    JSON.stringify({
      ...bare,
      status: 'final',
      completeness: { expected: [], reported: [] },
      revision: 1,
    }),
  );
  await w.add('MBB_SUB_P100', '37', '2024-06', 1, event('37', '2024-06', 1));
  await w.end();
});
afterAll(async () => {
  await q?.release();
  await ds?.destroy();
});

async function pages(areas: string[], bs: '2008' | '2025', size: number) {
  const out: PublishedRow[][] = [];
  for await (const page of new KpiStore().publishedPages(q, bs, areas, { pageRows: size }))
    out.push(page);
  return out;
}

describe('KpiStore.publishedPages', () => {
  const areas = [...Array.from({ length: 30 }, (_, i) => String(14_350 + i)), '37'];

  it('reads every key once at its latest revision, a page of at most 7 keys at a time', async () => {
    await q.startTransaction();
    try {
      const read = await pages(areas, '2008', 7);
      // 61 keys of 2008 (60 communes' and the 2008 province's) in pages of 7: nine pages
      expect(read.map((p) => p.length)).toEqual([7, 7, 7, 7, 7, 7, 7, 7, 5]);
      const keys = read.flat();
      expect(new Set(keys.map((k) => `${k.area}|${k.period}`)).size).toBe(61);
      expect(keys.find((k) => k.area === '14379' && k.period === '2024-06')).toEqual({
        kpi: 'MBB_SUB_P100',
        bs: '2008',
        area: '14379',
        period: '2024-06',
        numerator: 300,
        denominator: 1000,
        status: 'provisional',
        completeness: { expected: ['viettel', 'vnpt'], reported: ['viettel'] },
        revision: 3,
      });
      // the cursor is closed after each read: a second one in the same transaction works
      expect((await pages(['37'], '2025', 7)).flat()).toEqual([
        {
          ...{ kpi: 'MBB_SUB_P100', bs: '2025', area: '37', period: '2025-09' },
          ...{ numerator: 5, denominator: 10, status: 'final', revision: 1 },
          completeness: { expected: [], reported: [] },
        },
      ]);
    } finally {
      await q.commitTransaction();
    }
  });

  it('reads nothing for no units, and fails outside a transaction (a cursor needs one)', async () => {
    await q.startTransaction();
    expect(await pages([], '2008', 7)).toEqual([]);
    await q.commitTransaction();
    await expect(pages(areas, '2008', 7)).rejects.toThrow(/transaction/);
  });
});

describe('the change log (kpi_change)', () => {
  it('holds one row per revision of a key: a second copy of a revision is refused', async () => {
    const runner = ds.createQueryRunner();
    try {
      const client = (await runner.connect()) as PoolClient;
      await runner.startTransaction();
      const w = await new KpiStore().openChangeLog(runner, client);
      await w.add('MBB_SUB_P100', '14350', '2024-05', 3, '{}');
      await expect(w.end()).rejects.toThrow(
        /duplicate key value violates unique constraint "kpi_change_key"/,
      );
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
    const rows = await ds.query(
      `SELECT revision, flush_id::int AS flush FROM kpi_change
        WHERE area = '14350' AND period = '2024-05' ORDER BY revision`,
    );
    expect(rows).toEqual([1, 2, 3].map((revision) => ({ revision, flush: 1 })));
  });

  it('serves each key at its latest revision from kpi_value, by area as by KPI', async () => {
    const byArea = await ds.query(
      `SELECT kpi, period, revision FROM kpi_value WHERE area = '14351' ORDER BY period`,
    );
    expect(byArea).toEqual([
      { kpi: 'MBB_SUB_P100', period: '2024-05', revision: 3 },
      { kpi: 'MBB_SUB_P100', period: '2024-06', revision: 3 },
    ]);
    const byKpi = await ds.query(
      `SELECT count(*)::int AS n, max(revision) AS latest FROM kpi_value WHERE kpi = 'MBB_SUB_P100'`,
    );
    expect(byKpi).toEqual([{ n: 62, latest: 3 }]);
  });

  it('gives the next flush ids after every row and after every id the sequence gave out', async () => {
    const store = new KpiStore();
    const [row]: { max: string }[] = await ds.query(`SELECT max(id)::text AS max FROM kpi_change`);
    const max = Number(row!.max);
    expect(max).toBeGreaterThan(0);
    expect(await store.lastChangeId(q)).toBe(max);
    // a rolled-back flush's ids, or a row inserted with the default and deleted, stay used
    await ds.query(`SELECT setval('kpi_change_id_seq', $1)`, [max + 50]);
    expect(await store.lastChangeId(q)).toBe(max + 50);
  });
});
