/**
 * Promise 1 and 3 under fire: services are killed with SIGKILL while feeds stream in and are
 * restarted. Afterwards every KPI equals a recomputation from the accepted feeds, nothing is
 * counted twice, and every key's revisions run 1, 2, 3, ... without a gap.
 */
import { AdminUnits } from '@app/catalogue';
import {
  communeWorkload,
  eventually,
  FeedSender,
  feedsStored,
  type HubProcesses,
  kafkaClient,
  recomputeKpis,
  startTestHub,
  TopicWatcher,
  untilHubAgrees,
  uniqueSuffix,
} from '@app/testing';
import pg from 'pg';

const units = AdminUnits.load('data/admin-units');
const run = uniqueSuffix();
// Điện Biên (11): 129 communes in the 2008-era list; 4 operators, 6 months.
const workload = () =>
  communeWorkload(units, {
    provinces: ['11'],
    operators: ['viettel', 'vnpt', 'mobifone', 'vietnamobile'],
    year: 2024,
    months: 6,
    run,
    seed: 20_241_122,
    corrections: 8,
    resends: 10,
  });

describe('the hub killed with SIGKILL mid-stream', () => {
  const { feeds, resends } = workload();
  let hub: HubProcesses;
  let kpis: TopicWatcher;
  let sender: FeedSender;
  let db: string;

  beforeAll(async () => {
    ({ hub, databaseUrl: db } = await startTestHub('crash', 13_100));
    const kafka = kafkaClient();
    kpis = await new TopicWatcher(kafka, 'lgsp.kpi.v1').start();
    sender = await new FeedSender(kafka).start();
  });

  afterAll(async () => {
    await Promise.all([sender?.stop(), kpis?.stop(), hub?.stopAll()]);
  });

  it('ends with every KPI equal to a recomputation, nothing counted twice, no revision gap', async () => {
    const stream = [...feeds, ...resends];
    const killAggregatorAt = Math.floor(stream.length * 0.3);
    const killIngestAt = Math.floor(stream.length * 0.6);
    let aggregatorKilled = false;
    for (let i = 0; i < stream.length; i += 3) {
      await sender.send(stream.slice(i, i + 3));
      if (i >= killAggregatorAt && !aggregatorKilled) {
        // kill it while it works: some events are out, batches are in flight
        await eventually(() => (kpis.records.length > 0 ? true : undefined), {
          what: 'first events',
        });
        await hub.kill('aggregator');
        aggregatorKilled = true;
      }
      if (i >= killIngestAt && i < killIngestAt + 3) {
        await hub.kill('ingest');
        await hub.start('aggregator');
      }
    }
    await hub.start('ingest');

    const expected = recomputeKpis(feeds, units);
    expect(expected.size).toBeGreaterThan(1_000);

    // Wait until the API agrees with the recomputation on every key.
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
