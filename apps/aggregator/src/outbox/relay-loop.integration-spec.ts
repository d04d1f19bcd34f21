/**
 * The relay publishes the change log in id order, each row once: rows a flush hands over in
 * memory go as they were sent to PostgreSQL, and whatever was not handed over (another
 * instance's flush, the part of a large flush not kept) is read back, in its place.
 */
import { KpiStore, createDataSource, runMigrations } from '@app/database';
import { TOPICS, TOPIC_SPECS } from '@app/contract';
import { createIdempotentProducer, ensureTopics } from '@app/kafka';
import { TopicWatcher, eventually, freshDatabase, kafkaClient, uniqueSuffix } from '@app/testing';
import type { Producer } from 'kafkajs';
import pg, { type PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import { RelayLoop, type RelaySession } from './relay-loop.js';

let url: string;
let ds: DataSource;
let producer: Producer;
let watcher: TopicWatcher;
let relay: RelayLoop | undefined;
const kafka = kafkaClient();
const area = `9${uniqueSuffix()}`;

beforeAll(async () => {
  url = await freshDatabase('it_relay');
  ds = await createDataSource(url).initialize();
  await runMigrations(ds);
  await ensureTopics(kafka, TOPIC_SPECS);
  producer = createIdempotentProducer(kafka);
  await producer.connect();
  // a broker just started may not lead its partitions yet
  watcher = await eventually(() => new TopicWatcher(kafka, TOPICS.kpi).start('now'));
});
afterAll(async () => {
  await relay?.stop();
  await watcher?.stop();
  await producer?.disconnect();
  await ds?.destroy();
});

const connect = async (): Promise<RelaySession> => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    query: async (sql, params) => (await client.query(sql, params)).rows,
    client: client as unknown as RelaySession['client'],
    close: () => client.end(),
  };
};

/** One flush of `n` events for periods from `from` on, committed; its kept COPYs. */
async function flush(n: number, from: number, keepBytes: number) {
  const q = ds.createQueryRunner();
  try {
    const client = (await q.connect()) as PoolClient;
    await q.startTransaction();
    const w = await new KpiStore().openChangeLog(q, client, { sendBytes: 4_096, keepBytes });
    for (let i = from; i < from + n; i++)
      await w.add('MBB_SUB_P100', area, String(i), 1, JSON.stringify({ i, areaName: 'Đà Nẵng' }));
    await w.end();
    await q.commitTransaction();
    return w.written();
  } finally {
    await q.release();
  }
}

describe('RelayLoop', () => {
  it('publishes handed-over rows from memory and reads back the rest, every row once', async () => {
    // A poll of a minute: after its first look the relay moves only when woken, by a hand-over.
    let idle = 0;
    relay = new RelayLoop(connect, producer, 60_000, (events) => void (events === 0 && idle++));
    relay.start();
    // leading, and asleep after finding nothing to publish
    await eventually(() => idle === 1, { what: 'the relay to lead and find nothing' });
    expect(relay.status.leader).toBe(true);

    // 300 events, of which the first 8 kB of COPYs are kept; 200 from another instance's
    // flush (nothing handed over here); 100 more, all kept.
    const a = await flush(300, 0, 8_192);
    const b = await flush(200, 300, 0);
    const c = await flush(100, 500, 1 << 20);
    const keptA = a.reduce((n, r) => n + r.last - r.first + 1, 0);
    expect(keptA).toBeGreaterThan(0);
    expect(keptA).toBeLessThan(300);
    expect(b).toEqual([]);
    expect(c.reduce((n, r) => n + r.last - r.first + 1, 0)).toBe(100);
    relay.handOver(a);
    relay.handOver(c);

    await eventually(() => relay!.status.published === 600, { what: '600 published' });
    expect(relay.status.handedOver).toBe(keptA + 100);
    const events = (): { i: number; areaName: string }[] =>
      watcher.records
        .filter((r) => r.key.startsWith('MBB_SUB_P100|') && r.key.includes(`|${area}|`))
        .map((r) => r.json<{ i: number; areaName: string }>());
    await eventually(() => events().length === 600, { what: '600 events on the topic' });
    expect(
      events()
        .map((e) => e.i)
        .sort((x, y) => x - y),
    ).toEqual([...Array(600).keys()]);
    expect(events().every((e) => e.areaName === 'Đà Nẵng')).toBe(true);
    const [position]: { last_id: string }[] = await ds.query(
      `SELECT last_id::text FROM relay_position`,
    );
    expect(Number(position!.last_id)).toBe(c.at(-1)!.last);
  });

  it('keeps nothing it is handed while another instance relays', async () => {
    const follower = new RelayLoop(connect, producer, 60_000);
    follower.start();
    try {
      const before = relay!.status.handedOver;
      const rows = await flush(10, 600, 1 << 20);
      expect(rows).not.toEqual([]);
      follower.handOver(rows); // not the leader: the lock is the first relay's
      expect(follower.status.leader).toBe(false);
      // the leader, woken, reads them back
      relay!.wake();
      await eventually(() => relay!.status.published === 610, { what: '610 published' });
      expect(relay!.status.handedOver).toBe(before);
      expect(follower.status.published).toBe(0);
    } finally {
      await follower.stop();
    }
  });
});
