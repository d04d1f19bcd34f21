/**
 * The relay service publishes the change log in id order, each row once, woken by the
 * commit of the flush that wrote them (LISTEN/NOTIFY, not its poll); one relay leads, and
 * another takes over when it stops.
 */
import { type HubConfig, loadConfig } from '@app/config';
import { TOPICS, TOPIC_SPECS } from '@app/contract';
import { KpiStore, OutboxStore, createDataSource, runMigrations } from '@app/database';
import { ensureTopics } from '@app/kafka';
import { TopicWatcher, eventually, freshDatabase, kafkaClient, uniqueSuffix } from '@app/testing';
import type { PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import { OutboxRelay } from './outbox-relay.service.js';

let ds: DataSource;
let watcher: TopicWatcher;
let rebasedWatcher: TopicWatcher;
const relays: OutboxRelay[] = [];
const kafka = kafkaClient();
const area = `9${uniqueSuffix()}`;
/** A poll of ten minutes: within a test, only a notification moves the relay. */
let config: HubConfig;

beforeAll(async () => {
  const url = await freshDatabase('it_relay');
  config = loadConfig({ ...process.env, DATABASE_URL: url, OUTBOX_POLL_MS: '600000' });
  ds = await createDataSource(url).initialize();
  await runMigrations(ds);
  await ensureTopics(kafka, TOPIC_SPECS);
  // a broker just started may not lead its partitions yet
  watcher = await eventually(() => new TopicWatcher(kafka, TOPICS.kpi).start('now'));
  rebasedWatcher = await eventually(() => new TopicWatcher(kafka, TOPICS.kpiRebased).start('now'));
});
afterAll(async () => {
  for (const r of relays) await r.beforeApplicationShutdown();
  await watcher?.stop();
  await rebasedWatcher?.stop();
  await ds?.destroy();
});

async function startRelay(): Promise<OutboxRelay> {
  const r = new OutboxRelay(config, ds, kafka);
  relays.push(r);
  await r.onApplicationBootstrap();
  return r;
}

/**
 * One flush of `n` events for periods from `from` on, committed, as the aggregator writes it;
 * those `rebased` picks re-based history.
 */
async function flush(
  n: number,
  from: number,
  rebased: (i: number) => boolean = () => false,
): Promise<void> {
  const q = ds.createQueryRunner();
  try {
    const client = (await q.connect()) as PoolClient;
    await q.startTransaction();
    const w = await new KpiStore().openChangeLog(q, client, { sendBytes: 4_096 });
    for (let i = from; i < from + n; i++)
      await w.add(
        'MBB_SUB_P100',
        area,
        String(i),
        1,
        JSON.stringify({ i, areaName: 'Đà Nẵng' }),
        rebased(i),
      );
    await w.end();
    await new OutboxStore().notify(q);
    await q.commitTransaction();
  } finally {
    await q.release();
  }
}

/** The events on the topic, in order of `i` (the topic has partitions: no order across keys). */
const published = (): { i: number; areaName: string }[] =>
  watcher.records
    .filter((r) => r.key.startsWith(`MBB_SUB_P100|${area}|`))
    .map((r) => r.json<{ i: number; areaName: string }>())
    .sort((a, b) => a.i - b.i);

describe('The relay service', () => {
  it("publishes a flush's rows once it commits, each once and in id order, without waiting for its poll", async () => {
    const relay = await startRelay();
    await eventually(() => relay.status.leader, { what: 'the relay to lead' });
    await flush(300, 0);
    await eventually(() => relay.status.published === 300, { what: '300 published' });
    await flush(200, 300);
    await eventually(() => relay.status.published === 500, { what: '500 published' });

    await eventually(() => published().length === 500, { what: '500 events on the topic' });
    expect(published().map((e) => e.i)).toEqual([...Array(500).keys()]);
    expect(published().every((e) => e.areaName === 'Đà Nẵng')).toBe(true);
    // in id order: on each partition, in the order written
    const byPartition = new Map<number, number[]>();
    for (const r of watcher.records.filter((x) => x.key.startsWith(`MBB_SUB_P100|${area}|`)))
      byPartition.set(r.partition, [
        ...(byPartition.get(r.partition) ?? []),
        r.json<{ i: number }>().i,
      ]);
    expect(byPartition.size).toBeGreaterThan(1);
    for (const is of byPartition.values()) expect(is).toEqual([...is].sort((a, b) => a - b));
    const [position]: { last_id: string }[] = await ds.query(
      `SELECT last_id::text FROM relay_position`,
    );
    const [last]: { id: string }[] = await ds.query(`SELECT max(id)::text AS id FROM kpi_change`);
    expect(position!.last_id).toBe(last!.id);
    expect(await relay.backlog()).toBe(0);
  });

  it('has a second relay wait for the lock, and take over from where the first stopped', async () => {
    const [first] = relays;
    const second = await startRelay();
    await flush(10, 500);
    await eventually(() => first!.status.published === 510, { what: '510 published' });
    expect(second.status.leader).toBe(false);
    expect(second.status.published).toBe(0);

    await first!.beforeApplicationShutdown();
    relays.shift();
    await eventually(() => second.status.leader, { what: 'the second relay to lead' });
    await flush(20, 510);
    await eventually(() => second.status.published === 20, { what: '20 published' });
    await eventually(() => published().length === 530, { what: '530 events on the topic' });
    expect(published().map((e) => e.i)).toEqual([...Array(530).keys()]);
  });

  it('publishes re-based history on lgsp.kpi.rebased.v1, and only there', async () => {
    const [relay] = relays;
    const before = relay!.status.published;
    await flush(30, 1_000, (i) => i % 3 === 0);
    await eventually(() => relay!.status.published === before + 30, { what: '30 published' });
    const rebased = () =>
      rebasedWatcher.records
        .filter((r) => r.key.startsWith(`MBB_SUB_P100|${area}|`))
        .map((r) => r.json<{ i: number }>().i)
        .sort((a, b) => a - b);
    await eventually(() => rebased().length === 10, { what: '10 re-based events' });
    // i % 3 === 0 from 1000 to 1029
    expect(rebased()).toEqual(Array.from({ length: 10 }, (_, k) => 1_002 + 3 * k));
    await eventually(() => published().filter((e) => e.i >= 1_000).length === 20, {
      what: '20 published figures',
    });
    expect(published().some((e) => rebased().includes(e.i))).toBe(false);
  });
});
