/** (b') The floor: reading the feeds while publishing the backfill's KPI events, nothing else. */
import { measureFloor } from '../floor.mjs';
import { contract, fmt, kafka, kafkaBrokers, run, say } from '../lib/harness.mjs';

export async function floorPhase({ done, runStart, feeds, packs }) {
  say(
    `floor: reading the feeds while publishing the backfill's ${fmt(Number(done.written))} KPI events...`,
  );
  const floor = await measureFloor({
    kafka,
    brokers: kafkaBrokers,
    run,
    feeds: {
      topic: 'lgsp.feeds.v1',
      starts: runStart['lgsp.feeds.v1'],
      ids: feeds.map((f) => f.feedId),
    },
    packs,
    spec: contract.TOPIC_SPECS.find((t) => t.topic === contract.TOPICS.kpi),
    maxRequestBytes: contract.MAX_REQUEST_BYTES,
  });
  say(
    `floor (read the feeds and publish the ${fmt(floor.publish.events)} events, at once): ` +
      `${fmt(floor.obsPerSecond)} obs/s (${floor.seconds.toFixed(1)} s; reading ${floor.read.seconds.toFixed(1)} s, ` +
      `publishing ${floor.publish.seconds.toFixed(1)} s, ${fmt(floor.publish.bytes / 2 ** 20)} MB)`,
  );
  return floor;
}
