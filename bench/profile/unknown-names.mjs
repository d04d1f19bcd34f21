#!/usr/bin/env node
/**
 * The CPU a feed of 10,000 unknown names costs to refuse (issue 23): unknown measure codes,
 * and unknown area names through a mapping profile. Run after `npm run build`:
 *   node bench/profile/unknown-names.mjs
 */
import { AdminUnits, AreaNames, SourceRegistry } from '../../dist/libs/catalogue/src/index.js';
import { feedRules, validateFeed } from '../../dist/libs/contract/src/index.js';

const units = AdminUnits.load('data/admin-units');
const rules = feedRules(units, new SourceRegistry());
const feed = (observations) =>
  JSON.stringify({
    schema: 'lgsp.feed.v1',
    feedId: 'f',
    source: 'viettel',
    sentAt: '2024-07-05T08:00:00+07:00',
    period: '2024-06',
    observations,
  });
const cpuMs = (work) => {
  const before = process.cpuUsage();
  const out = work();
  const used = process.cpuUsage(before);
  return [(used.user + used.system) / 1000, out];
};
const measures = feed(
  Array.from({ length: 10_000 }, (_, i) => ({
    area: '37',
    measure: `mbb_subscription${i}`,
    value: 1,
  })),
);
for (let run = 1; run <= 3; run++) {
  const [ms, v] = cpuMs(() => validateFeed(measures, rules, { channel: 'kafka', key: 'viettel' }));
  const hinted = v.errors.filter((e) => e.message.includes('did you mean')).length;
  console.log(
    `10,000 unknown measures: ${ms.toFixed(0)} ms CPU, ${v.errors.length} errors, ${hinted} with hints`,
  );
}
const names = new AreaNames(units, '2008');
for (let run = 1; run <= 3; run++) {
  let hinted = 0;
  const [ms] = cpuMs(() => {
    for (let i = 0; i < 10_000; i++) {
      const r = names.resolve(`Xã Không Có ${i}`, i < 5);
      if (!r.ok && r.reason.includes('closest')) hinted++;
    }
  });
  console.log(`10,000 unknown area names: ${ms.toFixed(0)} ms CPU, ${hinted} with hints`);
}
