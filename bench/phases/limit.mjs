/** (b) The limit: a bare kafkajs consumer of the same feeds, doing only JSON.parse. */
import { fmt, fromRunStart, kafka, run, say } from '../lib/harness.mjs';

export async function limitPhase({ feeds, runStart }) {
  const bare = kafka.consumer({ groupId: `bare-${run}` });
  await fromRunStart(`bare-${run}`, 'lgsp.feeds.v1', runStart);
  await bare.connect();
  await bare.subscribe({ topic: 'lgsp.feeds.v1', fromBeginning: true });
  let seen = 0;
  let seenObs = 0;
  let tb0 = 0;
  let tb1 = 0;
  const ours = new Set(feeds.map((f) => f.feedId));
  await new Promise((resolve) => {
    void bare.run({
      eachBatch: async ({ batch }) => {
        if (!tb0) tb0 = Date.now();
        for (const m of batch.messages) {
          const f = JSON.parse(m.value.toString());
          if (!ours.has(f.feedId)) continue;
          seen++;
          seenObs += f.observations.length;
        }
        if (seen >= feeds.length && !tb1) {
          tb1 = Date.now();
          resolve();
        }
      },
    });
  });
  await bare.disconnect();
  const limitRate = seenObs / ((tb1 - tb0) / 1000);
  say(`limit (bare consumer, JSON.parse): ${fmt(limitRate)} obs/s`);
  return limitRate;
}
