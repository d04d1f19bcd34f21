/**
 * The aggregator's two steps on a real PostgreSQL, without Kafka: applying feed slices
 * (ApplySlicesHandler) and publishing the KPI keys they moved (PublishKpisHandler), with
 * one or two instances (each its own connection pool and in-memory groups) on one database.
 */
import { GroupLayouts } from '@app/aggregation';
import { AdminUnits, SourceRegistry } from '@app/catalogue';
import { ACCEPTED_FEED_SCHEMA, type AcceptedFeed, sliceFeed } from '@app/contract';
import { createDataSource, OutboxStore, runMigrations, SliceStore } from '@app/database';
import { eventually, freshDatabase } from '@app/testing';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import type { AggregatorContext } from '../aggregator.tokens.js';
import { GroupCache } from '../groups/group-cache.service.js';
import { PublishKpisHandler } from '../kpis/publish-kpis.handler.js';
import { ApplySlicesHandler } from './apply-slices.handler.js';

const units = AdminUnits.load('data/admin-units');
const ctx: AggregatorContext = { units, layouts: new GroupLayouts(units) };
const registry = new SourceRegistry();
let url: string;
let ds: DataSource;

/** One aggregator instance: its own pool and its own groups in memory. */
class Instance {
  readonly cache = new GroupCache(ctx);
  readonly applier: ApplySlicesHandler;
  readonly publisher: PublishKpisHandler;
  constructor(readonly ds: DataSource) {
    this.applier = new ApplySlicesHandler(ds, this.cache);
    this.publisher = new PublishKpisHandler(ds, ctx, this.cache);
  }
  apply(...feeds: AcceptedFeed[]) {
    return this.applier.apply(
      feeds
        .flatMap((f) => sliceFeed(f, units))
        .map((s) => ({ slice: s, payload: JSON.stringify(s) })),
    );
  }
  publish(group: string) {
    return this.publisher.publish(group, registry);
  }
}
let hub: Instance;

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

/** A key's current event, as the API serves it. */
async function kpi(key: string): Promise<{
  value: number | null;
  numerator: number | null;
  revision: number;
  denominatorPeriod: string | null;
}> {
  const [kpiCode, area, period] = key.split('|');
  const rows: { payload: string }[] = await ds.query(
    'SELECT payload FROM kpi_value WHERE kpi = $1 AND area = $2 AND period = $3',
    [kpiCode, area, period],
  );
  return rows[0] && JSON.parse(rows[0].payload);
}
/** A key's events; `rebased`: the re-based history of the 2025 province of that code. */
async function eventsOf(
  key: string,
  rebased = false,
): Promise<{ revision: number; flushId: string }[]> {
  const [kpiCode, area, period] = key.split('|');
  const rows: { payload: string; flush_id: string }[] = await ds.query(
    `SELECT payload, flush_id FROM kpi_change
      WHERE kpi = $1 AND area = $2 AND period = $3 AND rebased = $4 ORDER BY id`,
    [kpiCode, area, period, rebased],
  );
  return rows.map((r) => ({ revision: JSON.parse(r.payload).revision, flushId: r.flush_id }));
}

beforeAll(async () => {
  url = await freshDatabase('it_apply');
  ds = await createDataSource(url).initialize();
  await runMigrations(ds);
  await new SliceStore().ensureGroups(ds, ctx.layouts.codes());
  hub = new Instance(ds);
});
afterAll(async () => {
  await ds?.destroy();
});

// Gia Viễn district (372) of Ninh Bình (37 of 2008), in the 2025 group 37 with Hà Nam and Nam Định.
describe('the aggregator on a real Postgres', () => {
  it('applies a slice once: the same feed slice again (a redelivery) changes nothing', async () => {
    const f = feed('viettel', '2024-06', '2024-07-01T00:00:00Z', [
      { area: '14386', measure: 'mbb_subscriptions', value: 100 },
    ]);
    expect(await hub.apply(f, f)).toMatchObject({ fresh: 1, duplicates: 1 });
    await hub.publish('37');
    const again = await hub.apply({
      ...f,
      observations: [{ area: '14386', measure: 'mbb_subscriptions', value: 999 }],
    });
    expect(again).toMatchObject({ fresh: 0, duplicates: 1 });
    expect(await hub.publish('37')).toMatchObject({ events: 0 });
    expect((await kpi('MBB_SUB_P100|14386|2024-06')).numerator).toBe(100);
    expect(await eventsOf('MBB_SUB_P100|14386|2024-06')).toHaveLength(1);
  });

  it('keeps the later sentAt whatever order the feeds arrive in', async () => {
    await hub.apply(
      feed('vnpt', '2024-05', '2024-06-10T00:00:00Z', [
        { area: '14389', measure: 'fbb_subscriptions', value: 20 },
      ]),
    );
    await hub.publish('37');
    const late = await hub.apply(
      feed('vnpt', '2024-05', '2024-06-01T00:00:00Z', [
        { area: '14389', measure: 'fbb_subscriptions', value: 10 },
      ]),
    );
    expect(late).toMatchObject({ fresh: 1, cellsChanged: 0 });
    expect(await hub.publish('37')).toMatchObject({ events: 0 });
    expect((await kpi('FBB_SUB_P100|14389|2024-05')).numerator).toBe(20);
  });

  it('publishes one event per changed key per flush, however many batches moved it', async () => {
    const yearBefore = (await eventsOf('MBB_SUB_P100|37|2024')).length;
    for (const [i, s] of ['viettel', 'vnpt', 'mobifone'].entries())
      await hub.apply(
        feed(s, '2024-04', '2024-05-01T00:00:00Z', [
          { area: '14392', measure: 'mbb_subscriptions', value: 10 * (i + 1) },
        ]),
      );
    await hub.publish('37');
    expect((await eventsOf('MBB_SUB_P100|14392|2024-04')).map((e) => e.revision)).toEqual([1]);
    expect((await kpi('MBB_SUB_P100|14392|2024-04')).numerator).toBe(60);
    // the province's year, moved by all three batches: one more event, in a flush of its own
    const year = await eventsOf('MBB_SUB_P100|37|2024');
    expect(year.length).toBe(yearBefore + 1);
    expect(new Set(year.map((e) => e.flushId)).size).toBe(year.length);
  });

  it("writes new Ninh Bình's re-based history beside old Ninh Bình's figures, as its own keys", async () => {
    await hub.apply(
      feed('viettel', '2023-06', '2023-07-01T00:00:00Z', [
        { area: '35', measure: 'mbb_subscriptions', value: 500 },
        { area: '37', measure: 'mbb_subscriptions', value: 300 },
      ]),
    );
    await hub.publish('37');
    const [old] = await eventsOf('MBB_SUB_P100|37|2023-06');
    const rebased: { payload: string }[] = await ds.query(
      `SELECT payload FROM kpi_rebased_value WHERE kpi = 'MBB_SUB_P100' AND area = '37'
          AND period = '2023-06'`,
    );
    expect(old!.revision).toBe(1);
    expect((await kpi('MBB_SUB_P100|37|2023-06')).numerator).toBe(300);
    expect(JSON.parse(rebased[0]!.payload)).toMatchObject({
      areaSet: '2025',
      basis: 'rebased-2025',
      numerator: 800,
      revision: 1,
      rebasedFrom: [
        { areaSet: '2008', area: '35' },
        { areaSet: '2008', area: '36' },
        { areaSet: '2008', area: '37' },
      ],
    });
    // A new instance loads both kinds of keys back: a correction moves each exactly once.
    const fresh = new Instance(ds);
    await fresh.apply(
      feed('viettel', '2023-06', '2023-07-02T00:00:00Z', [
        { area: '35', measure: 'mbb_subscriptions', value: 600 },
      ]),
    );
    await fresh.publish('37');
    expect((await eventsOf('MBB_SUB_P100|37|2023-06', true)).map((e) => e.revision)).toEqual([
      1, 2,
    ]);
    expect((await eventsOf('MBB_SUB_P100|37|2023-06')).map((e) => e.revision)).toEqual([1]);
  });

  it('notifies the relay when a flush that wrote events commits, and not for one that wrote none', async () => {
    const listener = new pg.Client({ connectionString: url });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (m) => heard.push(m.channel));
    try {
      await new OutboxStore().listen(listener);
      await hub.apply(
        feed('viettel', '2024-03', '2024-04-01T00:00:00Z', [
          { area: '14401', measure: 'mbb_subscriptions', value: 40 },
        ]),
      );
      const wrote = await hub.publish('37');
      expect(wrote.events).toBeGreaterThan(0);
      await eventually(() => heard.length === 1, { what: 'one notification' });
      expect(heard).toEqual([OutboxStore.CHANNEL]);

      const nothing = await hub.publish('37'); // nothing changed since
      expect(nothing.events).toBe(0);
      // a round trip on the listening session delivers anything sent before it
      await listener.query('SELECT 1');
      expect(heard).toHaveLength(1);
    } finally {
      await listener.end();
    }
  });

  it('recomputes later periods that fell back on an older population when a newer one arrives', async () => {
    await hub.apply(
      feed('gso', '2023', '2024-01-01T00:00:00Z', [
        { area: '14395', measure: 'population', value: 1000 },
      ]),
      feed('viettel', '2024-Q1', '2024-04-01T00:00:00Z', [
        { area: '14395', measure: 'mbb_subscriptions', value: 500 },
      ]),
    );
    await hub.publish('37');
    expect(await kpi('MBB_SUB_P100|14395|2024-Q1')).toMatchObject({
      value: 50,
      denominatorPeriod: '2023',
      revision: 1,
    });
    await hub.apply(
      feed('gso', '2024', '2025-01-01T00:00:00Z', [
        { area: '14395', measure: 'population', value: 2000 },
      ]),
    );
    await hub.publish('37');
    expect(await kpi('MBB_SUB_P100|14395|2024-Q1')).toMatchObject({
      value: 25,
      denominatorPeriod: '2024',
      revision: 2,
    });
  });

  it('loses nothing when an instance dies between applying and publishing', async () => {
    const crashed = new Instance(ds);
    await crashed.apply(
      feed('mobifone', '2024-02', '2024-03-01T00:00:00Z', [
        { area: '14398', measure: 'mbb_subscriptions', value: 70 },
      ]),
    );
    // its memory is gone; another instance loads the group and publishes what was left
    const other = new Instance(ds);
    expect(await new SliceStore().unpublished(ds)).toContain('37');
    expect((await other.publish('37')).events).toBeGreaterThan(0);
    expect(await kpi('MBB_SUB_P100|14398|2024-02')).toMatchObject({ numerator: 70, revision: 1 });
    expect(await new SliceStore().unpublished(ds)).not.toContain('37');
    // and the first instance, back with a stale group, reloads it rather than trusting memory
    expect(await hub.publish('37')).toMatchObject({ events: 0 });
    await hub.apply(
      feed('vnpt', '2024-02', '2024-03-01T00:00:00Z', [
        { area: '14398', measure: 'mbb_subscriptions', value: 30 },
      ]),
    );
    await hub.publish('37');
    expect(await kpi('MBB_SUB_P100|14398|2024-02')).toMatchObject({ numerator: 100, revision: 2 });
  });

  it('reloads a group stored in many pages exactly: a later change publishes only the keys it moved', async () => {
    // Hà Nội (01): 121 slices and published keys over some 150 units, more than one page of each.
    const communes = units
      .all('2008')
      .filter((u) => u.level === 'commune' && u.province === '01')
      .map((u) => u.code);
    const population = (first: number, sentAt: string) =>
      feed(
        'gso',
        '2024',
        sentAt,
        communes.map((c, i) => ({ area: c, measure: 'population', value: i === 0 ? first : 1000 })),
      );
    await hub.apply(population(1000, '2024-02-01T00:00:00Z'));
    for (const [i, c] of communes.slice(0, 120).entries())
      await hub.apply(
        feed('viettel', '2024-01', '2024-02-01T00:00:00Z', [
          { area: c, measure: 'mbb_subscriptions', value: i + 1 },
        ]),
      );
    const first = await hub.publish('01');
    expect(first.events).toBeGreaterThan(4 * 120);

    // A new instance loads the group from PostgreSQL; a new population moves one commune.
    const fresh = new Instance(ds);
    await fresh.apply(population(2000, '2024-03-01T00:00:00Z'));
    const second = await fresh.publish('01');
    // MBB_SUB_P100 of 2024-01, Q1, H1 and the year, at the commune, its district, the province
    // and the province re-based (Hà Nội of the 2025 lists, formed from old Hà Nội alone)
    expect(second.events).toBe(16);
    const c = communes[0]!;
    expect(await kpi(`MBB_SUB_P100|${c}|2024-01`)).toMatchObject({ value: 0.05, revision: 2 });
    expect(await kpi(`MBB_SUB_P100|${communes[119]!}|2024-01`)).toMatchObject({
      value: 12,
      revision: 1,
    });
  });

  it('serialises two instances on one group: revisions 1..n, no lost update', async () => {
    const otherDs = await createDataSource(url).initialize();
    try {
      const second = new Instance(otherDs);
      const operators = ['viettel', 'vnpt', 'mobifone', 'vietnamobile'];
      const feeds = Array.from({ length: 16 }, (_, i) =>
        feed(operators[i % 4]!, '2024-03', `2024-04-01T00:00:${String(i).padStart(2, '0')}Z`, [
          { area: '374', measure: 'mbb_subscriptions', value: i + 1 },
        ]),
      );
      // Ninh Bình (37 of 2008) is in the 2025 group 37, with Hà Nam and Nam Định.
      await Promise.all(
        feeds.map(async (f, i) => {
          const instance = i % 2 === 0 ? hub : second;
          await instance.apply(f);
          await instance.publish('37');
        }),
      );
      await hub.publish('37');
      await second.publish('37');
      // the last writer per operator wins: feeds 12..15 carry 13, 14, 15, 16
      const final = await kpi('MBB_SUB_P100|374|2024-03');
      expect(final.numerator).toBe(13 + 14 + 15 + 16);
      const revisions = (await eventsOf('MBB_SUB_P100|374|2024-03')).map((e) => e.revision);
      expect(revisions).toEqual(Array.from({ length: final.revision }, (_, i) => i + 1));
    } finally {
      await otherDs.destroy();
    }
  });
});
