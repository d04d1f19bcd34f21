import { AdminUnits, SourceRegistry } from '@app/catalogue';
import { ACCEPTED_FEED_SCHEMA, type AcceptedFeed } from '@app/contract';
import { createDataSource, runMigrations } from '@app/database';
import { freshDatabase } from '@app/testing';
import type { DataSource } from 'typeorm';
import { ApplyFeedsHandler } from './apply-feeds.handler.js';

const ctx = { units: AdminUnits.load('data/admin-units'), registry: new SourceRegistry() };
let url: string;
let ds: DataSource;
let handler: ApplyFeedsHandler;

let n = 0;
function feed(
  source: string,
  period: string,
  sentAt: string,
  observations: AcceptedFeed['observations'],
  feedId = `${source}-${++n}`,
): AcceptedFeed {
  return {
    schema: ACCEPTED_FEED_SCHEMA,
    source,
    feedId,
    sentAt: new Date(sentAt).toISOString(),
    period,
    status: 'actual',
    observations,
    receivedAt: new Date().toISOString(),
    origin: { channel: 'kafka' },
  };
}

async function kpi(key: string): Promise<{
  value: number | null;
  numerator: number | null;
  revision: number;
  denominator_period: string | null;
}> {
  const [kpiCode, area, period] = key.split('|');
  const rows = await ds.query(
    'SELECT * FROM kpi_value WHERE kpi = $1 AND area = $2 AND period = $3',
    [kpiCode, area, period],
  );
  return rows[0];
}
async function outboxFor(key: string): Promise<{ revision: number }[]> {
  const rows: { payload: string }[] = await ds.query(
    'SELECT payload FROM outbox WHERE key = $1 ORDER BY id',
    [key],
  );
  return rows.map((r) => JSON.parse(r.payload));
}

beforeAll(async () => {
  url = await freshDatabase('it_apply');
  ds = await createDataSource(url).initialize();
  await runMigrations(ds);
  handler = new ApplyFeedsHandler(ds, ctx);
});
afterAll(async () => {
  await ds?.destroy();
});

describe('ApplyFeedsHandler on a real Postgres', () => {
  it('counts a feed once: the same (source, feedId) again changes nothing', async () => {
    const f = feed('viettel', '2024-06', '2024-07-01T00:00:00Z', [
      { area: '14386', measure: 'mbb_subscriptions', value: 100 },
    ]);
    const first = await handler.apply([f, f]);
    expect(first).toMatchObject({ newFeeds: 1, duplicates: 1 });
    const again = await handler.apply([
      { ...f, observations: [{ area: '14386', measure: 'mbb_subscriptions', value: 999 }] },
    ]);
    expect(again).toMatchObject({ newFeeds: 0, duplicates: 1, events: 0 });
    expect((await kpi('MBB_SUB_P100|14386|2024-06')).numerator).toBe(100);
    expect(await outboxFor('MBB_SUB_P100|14386|2024-06')).toHaveLength(1);
  });

  it('keeps the later sentAt whatever order the feeds arrive in', async () => {
    const newer = feed('vnpt', '2024-05', '2024-06-10T00:00:00Z', [
      { area: '14389', measure: 'fbb_subscriptions', value: 20 },
    ]);
    const older = feed('vnpt', '2024-05', '2024-06-01T00:00:00Z', [
      { area: '14389', measure: 'fbb_subscriptions', value: 10 },
    ]);
    await handler.apply([newer]);
    const late = await handler.apply([older]);
    expect(late).toMatchObject({ newFeeds: 1, observationsChanged: 0, events: 0 });
    expect((await kpi('FBB_SUB_P100|14389|2024-05')).numerator).toBe(20);
  });

  it('writes one event per changed key per batch, not one per observation', async () => {
    const feeds = ['viettel', 'vnpt', 'mobifone'].map((s, i) =>
      feed(s, '2024-04', '2024-05-01T00:00:00Z', [
        { area: '14392', measure: 'mbb_subscriptions', value: 10 * (i + 1) },
      ]),
    );
    await handler.apply(feeds);
    const events = await outboxFor('MBB_SUB_P100|14392|2024-04');
    expect(events.map((e) => e.revision)).toEqual([1]);
    expect((await kpi('MBB_SUB_P100|14392|2024-04')).numerator).toBe(60);
  });

  it('recomputes later periods that fell back on an older population when a newer one arrives', async () => {
    await handler.apply([
      feed('gso', '2023', '2024-01-01T00:00:00Z', [
        { area: '14395', measure: 'population', value: 1000 },
      ]),
      feed('viettel', '2024-Q1', '2024-04-01T00:00:00Z', [
        { area: '14395', measure: 'mbb_subscriptions', value: 500 },
      ]),
    ]);
    expect(await kpi('MBB_SUB_P100|14395|2024-Q1')).toMatchObject({
      value: 50,
      denominator_period: '2023',
      revision: 1,
    });
    await handler.apply([
      feed('gso', '2024', '2025-01-01T00:00:00Z', [
        { area: '14395', measure: 'population', value: 2000 },
      ]),
    ]);
    expect(await kpi('MBB_SUB_P100|14395|2024-Q1')).toMatchObject({
      value: 25,
      denominator_period: '2024',
      revision: 2,
    });
  });

  it('serialises two instances writing the same province: revisions 1..n, no lost update', async () => {
    const other = await createDataSource(url).initialize();
    try {
      const second = new ApplyFeedsHandler(other, ctx);
      const operators = ['viettel', 'vnpt', 'mobifone', 'vietnamobile'];
      const feeds = Array.from({ length: 16 }, (_, i) =>
        feed(operators[i % 4]!, '2024-03', `2024-04-01T00:00:${String(i).padStart(2, '0')}Z`, [
          { area: '374', measure: 'mbb_subscriptions', value: i + 1 },
        ]),
      );
      await Promise.all(feeds.map((f, i) => (i % 2 === 0 ? handler : second).apply([f])));
      // the last writer per operator wins: feeds 12..15 carry 13, 14, 15, 16
      const final = await kpi('MBB_SUB_P100|374|2024-03');
      expect(final.numerator).toBe(13 + 14 + 15 + 16);
      const revisions = (await outboxFor('MBB_SUB_P100|374|2024-03')).map((e) => e.revision);
      expect(revisions).toEqual(Array.from({ length: final.revision }, (_, i) => i + 1));
    } finally {
      await other.destroy();
    }
  });
});
