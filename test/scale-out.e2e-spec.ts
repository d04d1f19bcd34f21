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
  type HubProcesses,
  kafkaClient,
  kpiMismatches,
  recomputeKpis,
  relayBacklog,
  startTestHub,
  TopicWatcher,
  topicDisagreements,
} from '@app/testing';
import { TOPICS } from '@app/contract';
import pg from 'pg';

const units = AdminUnits.load('data/admin-units');
/** Provinces of eight different 2025 groups, so that both instances get some of them. */
const PROVINCES = ['02', '11', '14', '19', '37', '44', '56', '93'];

interface AggregatorHealth {
  checks: {
    consumer: { detail: { slices: number; assignment: Record<string, number[]> } };
    outbox: { detail: { leader: boolean } };
  };
}

const aggregatorHealth = async (hub: HubProcesses): Promise<AggregatorHealth | undefined> => {
  const r = await fetch(hub.url('aggregator', '/health')).catch(() => undefined);
  return r?.ok ? ((await r.json()) as AggregatorHealth) : undefined;
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
    const { feeds, resends } = communeWorkload(units, {
      provinces: PROVINCES,
      operators: ['viettel', 'vnpt', 'mobifone'],
      year: 2022,
      months: 3,
      run,
      seed: 20_261_201,
      corrections: 12,
      resends: 8,
    });
    const stream = [...feeds, ...resends];
    const third = Math.ceil(stream.length / 3);
    const send = async (from: number, to: number) => {
      for (let i = from; i < to; i += 4) await sender.send(stream.slice(i, Math.min(i + 4, to)));
    };

    await send(0, third);
    // A second instance joins: the group rebalances while feeds keep coming.
    const joining = second.start('aggregator');
    await send(third, Math.ceil(third * 1.5));
    await joining;
    const split = await eventually(
      async () => {
        const [a, b] = [
          partitions(await aggregatorHealth(first)),
          partitions(await aggregatorHealth(second)),
        ];
        return a.length > 0 && b.length > 0 && a.length + b.length === 12 ? { a, b } : undefined;
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
    const leaders = [await aggregatorHealth(first), await aggregatorHealth(second)].filter(
      (h) => h?.checks.outbox.detail.leader,
    );
    expect(leaders).toHaveLength(1);

    // The first leaves while feeds keep coming: the second takes all partitions and the relay.
    const leaving = first.kill('aggregator', 'SIGTERM');
    await send(2 * third, stream.length);
    await leaving;
    await eventually(
      async () => (partitions(await aggregatorHealth(second)).length === 12 ? true : undefined),
      { what: 'the remaining instance to hold all 12 partitions' },
    );

    const expected = recomputeKpis(feeds, units);
    expect(expected.size).toBeGreaterThan(3_000);
    const client = new pg.Client({ connectionString: db });
    await client.connect();
    try {
      await eventually(
        async () => ((await kpiMismatches(client, expected)).length === 0 ? true : undefined),
        { timeoutMs: 180_000, intervalMs: 1_000, what: 'every KPI to equal the recomputation' },
      ).catch(async (e: Error) => {
        const bad = await kpiMismatches(client, expected);
        throw new Error(
          `${e.message}; ${bad.length} keys differ, e.g. ${bad.slice(0, 5).join(', ')}`,
        );
      });
      const { rows: counted } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM feed WHERE feed_id LIKE $1`,
        [`%${run}%`],
      );
      expect(Number(counted[0]!.n)).toBe(feeds.length);
      await eventually(async () => ((await relayBacklog(client)) === 0 ? true : undefined), {
        what: 'the outbox to drain through the new relay leader',
      });
      await eventually(
        async () =>
          (await topicDisagreements(client, kpis, expected)).length === 0 ? true : undefined,
        { what: 'the topic to carry revisions 1..n of every key, the latest equal to the API' },
      );
    } finally {
      await client.end();
    }
  });
});
