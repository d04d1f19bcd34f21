#!/usr/bin/env node
/**
 * Drives the aggregator's two steps directly, without Kafka, on one province's year of
 * monthly commune feeds (Hà Nội by default: 526 communes, 193 feeds), and prints where the
 * time goes: applying slices, publishing every changed key (compute, events, SQL), and
 * reloading the group as after a restart.
 *
 *   npm run build && node scripts/infra.mjs up test
 *   node --cpu-prof --cpu-prof-dir=.data/prof bench/profile/apply-one-province.mjs [province]
 *   node scripts/infra.mjs down test
 *
 * Uses DATABASE_URL, or the test profile's PostgreSQL (127.0.0.1:54339).
 */
import pg from 'pg';
import { backfill } from '../workload.mjs';
import { GroupLayouts } from '../../dist/libs/aggregation/src/index.js';
import { AdminUnits, SourceRegistry } from '../../dist/libs/catalogue/src/index.js';
import { sliceFeed } from '../../dist/libs/contract/src/index.js';
import {
  createDataSource,
  KpiStore,
  runMigrations,
  SliceStore,
} from '../../dist/libs/database/src/index.js';
import { ApplySlicesHandler } from '../../dist/apps/aggregator/src/feeds/apply-slices.handler.js';
import { GroupCache } from '../../dist/apps/aggregator/src/groups/group-cache.service.js';
import { PublishKpisHandler } from '../../dist/apps/aggregator/src/kpis/publish-kpis.handler.js';

const province = process.argv[2] ?? '01';
const base = process.env.DATABASE_URL ?? 'postgres://postgres:lgsp@127.0.0.1:54339/lgsp';
const name = `prof_${Date.now().toString(36)}`;
const admin = new pg.Client(base);
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
await admin.end();
const ds = await createDataSource(
  Object.assign(new URL(base), { pathname: `/${name}` }).toString(),
).initialize();
await runMigrations(ds);
const units = AdminUnits.load(new URL('../../data/admin-units', import.meta.url).pathname);
const ctx = { units, layouts: new GroupLayouts(units) };
await new SliceStore().ensureGroups(ds, ctx.layouts.codes());
const cache = new GroupCache(ctx);
const applier = new ApplySlicesHandler(ds, cache);
const publisher = new PublishKpisHandler(ds, ctx, cache);

// The bench's feeds (bench/workload.mjs) for this province, as the ingest accepts them.
const feeds = backfill(units, [province], 'prof')
  .buildFeeds()
  .map((f) => ({
    ...f,
    schema: 'lgsp.accepted-feed.v1',
    sentAt: new Date(f.sentAt).toISOString(),
    status: 'actual',
    receivedAt: new Date().toISOString(),
    origin: { channel: 'kafka' },
  }));
const records = feeds
  .flatMap((f) => sliceFeed(f, units))
  .map((slice) => ({ slice, payload: JSON.stringify(slice) }));
const observations = feeds.reduce((n, f) => n + f.observations.length, 0);
const mb = () =>
  `${Math.round(process.memoryUsage().rss / 2 ** 20)} MB rss, ${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MB heap`;

let t = performance.now();
for (let i = 0; i < records.length; i += 20) await applier.apply(records.slice(i, i + 20));
const applyMs = performance.now() - t;
console.log(
  `apply: ${records.length} slices, ${observations} observations in ${applyMs.toFixed(0)} ms (${Math.round(observations / (applyMs / 1000))} obs/s); ${mb()}`,
);
t = performance.now();
const group = units.groupOf('2008', province);
const res = await publisher.publish(group, new SourceRegistry());
const publishMs = performance.now() - t;
console.log(
  `publish: ${res.evaluated} keys evaluated, ${res.events} events in ${publishMs.toFixed(0)} ms (${Math.round(res.events / (publishMs / 1000))} events/s): evaluating ${res.ms.compute.toFixed(0)} ms, building events ${res.ms.events.toFixed(0)} ms, SQL ${res.ms.write.toFixed(0)} ms; ${mb()}`,
);
// Reload: what a restart or a rebalance costs this group (replay its slices, read the
// published state of its keys).
{
  const q = ds.createQueryRunner();
  await q.connect();
  await q.startTransaction(); // a group loads under its row lock
  const version = (await new SliceStore().lockGroups(q, [group])).get(group);
  t = performance.now();
  await new GroupCache(ctx).current(q, group, version);
  const loadMs = performance.now() - t;
  const layout = ctx.layouts.get(group);
  t = performance.now();
  const keys = [];
  for await (const page of new KpiStore().publishedPages(
    q,
    '2008',
    layout.u2008.codes.filter((_, i) => layout.u2008.level[i] !== 3), // not the virtual nodes
  ))
    keys.push(...page);
  await q.commitTransaction();
  const publishedMs = performance.now() - t;
  await q.release();
  console.log(
    `reload: ${loadMs.toFixed(0)} ms, of which reading the published state of ${keys.length} keys ${publishedMs.toFixed(0)} ms; ${mb()}`,
  );
}
if (globalThis.gc) {
  globalThis.gc();
  console.log(`after a full GC: ${mb()}`);
}
await ds.destroy();
const drop = new pg.Client(base);
await drop.connect();
await drop.query(`DROP DATABASE ${name}`);
await drop.end();
