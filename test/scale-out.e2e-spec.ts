/**
 * Scale-out: two aggregator instances in one consumer group split the feed-slice partitions
 * between them. A second instance joins mid-stream (a rebalance), both apply slices, then the
 * first leaves (another rebalance) and the second takes over its groups and the relay. The
 * result is exactly the recomputation, every key's revisions run 1..n, each feed counted once.
 */
import { AdminUnits } from '@app/catalogue';
import {
  communeWorkload,
  eventually,
  FeedSender,
  rng,
  feedsStored,
  type HubProcesses,
  kafkaClient,
  recomputeKpis,
  startTestHub,
  TopicWatcher,
  untilHubAgrees,
} from '@app/testing';
import { slicePlacement, TOPIC_SPECS, TOPICS } from '@app/contract';
import pg from 'pg';

const units = AdminUnits.load('data/admin-units');
/**
 * The smallest 2008 province of a group on each partition of the slices topic (as the ingest
 * places groups, `slicePlacement`): whichever partitions an instance holds, feeds for it keep
 * coming.
 */
function provincePerPartition(count: number): string[] {
  const place = slicePlacement(units, count);
  const communes = new Map<string, number>();
  for (const u of units.all('2008'))
    if (u.level === 'commune') communes.set(u.province, (communes.get(u.province) ?? 0) + 1);
  const chosen = new Map<number, string>();
  for (const [province] of [...communes].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))) {
    const p = place(units.groupOf('2008', province)!);
    if (!chosen.has(p)) chosen.set(p, province);
  }
  return [...chosen.values()];
}
const PARTITIONS = TOPIC_SPECS.find((t) => t.topic === TOPICS.slices)!.numPartitions;
const PROVINCES = provincePerPartition(PARTITIONS);

interface AggregatorHealth {
  checks: {
    consumer: { detail: { slices: number; assignment: Record<string, number[]> } };
  };
}
interface RelayHealth {
  checks: { outbox: { detail: { leader: boolean; published: number } } };
}

const aggregatorHealth = async (hub: HubProcesses): Promise<AggregatorHealth | undefined> => {
  const r = await fetch(hub.url('aggregator', '/health')).catch(() => undefined);
  return r?.ok ? ((await r.json()) as AggregatorHealth) : undefined;
};
const relayHealth = async (hub: HubProcesses): Promise<RelayHealth | undefined> => {
  const r = await fetch(hub.url('relay', '/health')).catch(() => undefined);
  return r?.ok ? ((await r.json()) as RelayHealth) : undefined;
};
const partitions = (h: AggregatorHealth | undefined): number[] =>
  h?.checks.consumer.detail.assignment[TOPICS.slices] ?? [];

describe('two aggregator instances in one consumer group', () => {
  let first: HubProcesses;
  let second: HubProcesses;
  let kpis: TopicWatcher;
  let sender: FeedSender;
  let db: string;
  let run: string;

  beforeAll(async () => {
    ({ hub: first, databaseUrl: db, run } = await startTestHub('scale', 13_700));
    second = first.sibling(13_710);
    const kafka = kafkaClient();
    kpis = await new TopicWatcher(kafka, 'lgsp.kpi.v1').start();
    sender = await new FeedSender(kafka).start();
  });

  afterAll(async () => {
    await Promise.all([sender?.stop(), kpis?.stop(), first?.stopAll(), second?.stopAll()]);
  });

  it('split the partitions, and stay exact when one joins and the other leaves mid-stream', async () => {
    // Every partition holds a group (34 placed by size on 12), so each instance's share gets feeds.
    expect(PROVINCES).toHaveLength(PARTITIONS);
    const { feeds, resends } = communeWorkload(units, {
      provinces: PROVINCES,
      operators: ['viettel', 'vnpt', 'mobifone'],
      year: 2020,
      months: 2,
      run,
      seed: 20_261_201,
      corrections: 12,
      resends: 8,
    });
    // In an order of arrival that mixes provinces, so that every stretch feeds both instances.
    const rand = rng(7);
    const stream = [...feeds, ...resends]
      .map((f) => ({ f, r: rand() }))
      .sort((a, b) => a.r - b.r)
      .map((x) => x.f);
    const third = Math.ceil(stream.length / 3);
    const send = async (from: number, to: number) => {
      for (let i = from; i < to; i += 4) await sender.send(stream.slice(i, Math.min(i + 4, to)));
    };

    await send(0, third);
    // A second instance (and a second relay) joins: the group rebalances while feeds keep coming.
    const joining = Promise.all([second.start('aggregator'), second.start('relay')]);
    await send(third, Math.ceil(third * 1.5));
    await joining;
    const split = await eventually(
      async () => {
        const [a, b] = [
          partitions(await aggregatorHealth(first)),
          partitions(await aggregatorHealth(second)),
        ];
        return a.length > 0 && b.length > 0 && a.length + b.length === PARTITIONS
          ? { a, b }
          : undefined;
      },
      { what: 'both instances to hold partitions of the slices topic' },
    );
    expect(split.a.filter((p) => split.b.includes(p))).toEqual([]);
    await send(Math.ceil(third * 1.5), 2 * third);
    await eventually(
      async () =>
        ((await aggregatorHealth(second))?.checks.consumer.detail.slices ?? 0) > 0 || undefined,
      { what: 'the second instance to apply slices of its own' },
    );
    const relays = [await relayHealth(first), await relayHealth(second)];
    expect(relays.map((h) => h?.checks.outbox.detail.leader)).toEqual([true, false]);

    // The first leaves while feeds keep coming: the second takes all partitions and the relay.
    const leaving = Promise.all([
      first.kill('aggregator', 'SIGTERM'),
      first.kill('relay', 'SIGTERM'),
    ]);
    await send(2 * third, stream.length);
    await leaving;
    await eventually(
      async () =>
        partitions(await aggregatorHealth(second)).length === PARTITIONS ? true : undefined,
      { what: `the remaining instance to hold all ${PARTITIONS} partitions` },
    );
    await eventually(
      async () => (await relayHealth(second))?.checks.outbox.detail.leader || undefined,
      { what: 'the remaining relay to take the relay over' },
    );

    const expected = recomputeKpis(feeds, units);
    expect(expected.size).toBeGreaterThan(3_000);
    const client = new pg.Client({ connectionString: db });
    await client.connect();
    try {
      await untilHubAgrees(client, kpis, expected);
      // Each feed counted once, the resends ignored.
      expect(await feedsStored(client, run)).toBe(feeds.length);
    } finally {
      await client.end();
    }
  });
});
