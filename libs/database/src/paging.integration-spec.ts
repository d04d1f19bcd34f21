/**
 * Cursors over bigint ids handed out as text: every page must follow the ids' numeric order,
 * or a reader steps over rows once ids grow a digit ('100' sorts before '99' as text). The
 * relay, the change feed, the audit log and the DLQ list all page like this.
 */
import { freshDatabase } from '@app/testing';
import type { DataSource, QueryRunner } from 'typeorm';
import type { CopyClient } from './change-log-writer.js';
import { AuditStore } from './audit-store.js';
import { createDataSource, runMigrations } from './data-source.js';
import { KpiStore } from './kpi-store.js';
import { OutboxStore } from './outbox-store.js';

let ds: DataSource;
let q: QueryRunner;
let client: CopyClient;

beforeAll(async () => {
  ds = await createDataSource(await freshDatabase('it_paging')).initialize();
  await runMigrations(ds);
  q = ds.createQueryRunner();
  client = (await q.connect()) as CopyClient;
});
afterAll(async () => {
  await q?.release();
  await ds?.destroy();
});

async function pageAll(page: (after: string) => Promise<{ id: string }[]>): Promise<string[]> {
  const seen: string[] = [];
  let after = '0';
  for (;;) {
    const rows = await page(after);
    if (rows.length === 0) return seen;
    seen.push(...rows.map((r) => r.id));
    after = rows.at(-1)!.id;
  }
}

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => String(i + 1));

describe('paging by id', () => {
  it('relays every change-log row once, in id order, across 99 -> 100', async () => {
    await q.query(
      `INSERT INTO kpi_change (kpi, area, period, revision, payload)
       SELECT 'MBB_SUB_P100', lpad(i::text, 5, '0'), '2024-01', 1, '{"areaName":"Hà Nội"}'
         FROM generate_series(1, 120) AS i`,
    );
    const store = new OutboxStore();
    expect(await pageAll((after) => store.pending(client, after, 7))).toEqual(ids(120));
    // as the bytes the relay publishes: the key, and the event as it was written
    const [first] = await store.pending(client, '0', 1);
    expect(first!.key.toString()).toBe('MBB_SUB_P100|00001|2024-01');
    expect(first!.id).toBe('1');
    expect(first!.payload.equals(Buffer.from('{"areaName":"Hà Nội"}'))).toBe(true);
    // every row of a page, each its own key and payload; none past the last
    const page = await store.pending(client, '97', 5);
    expect(page.map((e) => [e.id, e.key.toString()])).toEqual(
      ['98', '99', '100', '101', '102'].map((id) => [
        id,
        `MBB_SUB_P100|${id.padStart(5, '0')}|2024-01`,
      ]),
    );
    expect(page.every((e) => e.payload.toString() === '{"areaName":"Hà Nội"}')).toBe(true);
    expect(await store.pending(client, '120', 10)).toEqual([]);
    expect(await pageAll((after) => new KpiStore().changes(ds, after, 7))).toEqual(ids(120));
  });

  it('lists every exchange and DLQ entry once, in id order, across 9 -> 10', async () => {
    const audit = new AuditStore();
    const made = [];
    for (let i = 0; i < 23; i++)
      made.push(
        await audit.recordOne(ds, {
          channel: 'http',
          source: 'viettel',
          feedId: `f-${i}`,
          topic: null,
          partition: null,
          offset: null,
          sizeBytes: 10,
          contentSha256: null,
          outcome: 'rejected',
        }),
      );
    await audit.addToDlq(
      ds,
      made.map((exchangeId) => ({
        exchangeId,
        source: 'viettel',
        feedId: null,
        topic: null,
        key: null,
        payload: Buffer.from('x'),
        replayable: false,
        errorCode: 'MALFORMED_JSON',
        errors: [],
        rejectedBy: 'ingest',
      })),
    );
    const exchanges = await pageAll(
      async (after) =>
        (await audit.exchanges(ds, { after, limit: 4 })) as unknown as { id: string }[],
    );
    expect(exchanges).toEqual(made);
    const dlq = await pageAll(
      async (after) => (await audit.dlq(ds, { after, limit: 4 })) as unknown as { id: string }[],
    );
    expect(dlq).toEqual(ids(23));
  });
});
