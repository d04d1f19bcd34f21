import { AdminUnits, SourceRegistry } from '../../dist/libs/catalogue/src/index.js';
import { createDataSource, runMigrations } from '../../dist/libs/database/src/index.js';
import { ApplyFeedsHandler } from '../../dist/apps/aggregator/src/feeds/apply-feeds.handler.js';
import pg from 'pg';
const base = 'postgres://postgres:lgsp@127.0.0.1:54339/lgsp';
const c = new pg.Client(base);
await c.connect();
await c.query('DROP DATABASE IF EXISTS prof');
await c.query('CREATE DATABASE prof');
await c.end();
const ds = await createDataSource(base.replace('/lgsp', '/prof')).initialize();
await runMigrations(ds);
const units = AdminUnits.load(new URL('../../data/admin-units', import.meta.url).pathname);
const h = new ApplyFeedsHandler(ds, { units, registry: new SourceRegistry() });
const communes = units
  .all('2008')
  .filter((u) => u.level === 'commune' && u.province === '37')
  .map((u) => u.code);
let s = 1;
const r = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const feed = (source, period, obs, id) => ({
  schema: 'lgsp.accepted-feed.v1',
  source,
  feedId: id,
  sentAt: `${period.slice(0, 4)}-12-01T00:00:00.000Z`,
  period,
  status: 'actual',
  observations: obs,
  receivedAt: new Date().toISOString(),
  origin: { channel: 'kafka' },
});
const t = (label, t0) => console.log(label, Date.now() - t0, 'ms');
let t0 = Date.now();
await h.apply([
  feed(
    'gso',
    '2024',
    communes.flatMap((a) => [
      { area: a, measure: 'population', value: 5000 },
      { area: a, measure: 'households', value: 1000 },
    ]),
    'gso',
  ),
]);
t(`gso (${communes.length * 2} obs)`, t0);
for (let m = 1; m <= 4; m++)
  for (const op of ['viettel', 'vnpt']) {
    const period = `2024-0${m}`;
    const obs = communes.flatMap((a) =>
      [
        'mobile_subscriptions',
        'mbb_subscriptions',
        'smartphone_subscriptions',
        'fbb_subscriptions',
        'ftth_household_subscriptions',
      ]
        .map((measure) => ({ area: a, measure, value: Math.floor(r() * 3000) }))
        .concat([
          { area: a, measure: 'villages_mbb_covered', items: [`${a}-1`, `${a}-2`] },
          { area: a, measure: 'bts_sites', items: [`S${a}`] },
        ]),
    );
    t0 = Date.now();
    const res = await h.apply([feed(op, period, obs, `${op}-${period}`)]);
    t(`${op} ${period} (${obs.length} obs, ${res.keysRecomputed} keys, ${res.events} events)`, t0);
  }
await ds.destroy();
