#!/usr/bin/env node
/**
 * `npm run bench [-- --provinces N]`: the hub against the limit, in one run, on this machine.
 *
 * Backfill: one year of monthly commune-level feeds (2008-era commune list) from 4 operators and
 * the statistics office: 5 counts, village coverage and BTS site sets per commune, population and
 * households. `--provinces N` takes the first N provinces (default all 63: 10,051 communes).
 * Measures (a) end-to-end throughput, first feed produced to the last KPI event published;
 * (b) the limit: a bare kafkajs consumer reading the same feeds doing only JSON.parse;
 * (c) freshness at a steady low load (p50/p99 feed produced -> KPI event); (d) peak RSS per
 * service and the database size; (e) KPI events against keys. Then checks every KPI in the
 * database against a recomputation from the generated data. Prints a table, writes bench/*.json.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import pg from 'pg';
import { ROOT, startKafka, startPostgres, stopKafka } from '../scripts/infra.mjs';

const cat = await import(join(ROOT, 'dist/libs/catalogue/src/index.js'));
const args = Object.fromEntries(
  process.argv
    .slice(2)
    .map((a, i, all) => (a.startsWith('--') ? [a.slice(2), all[i + 1]] : []))
    .filter((x) => x.length),
);
const PROVINCES = Number(args.provinces ?? 63);
const OPERATORS = ['viettel', 'vnpt', 'mobifone', 'vietnamobile'];
const COUNTS = [
  'mobile_subscriptions',
  'mbb_subscriptions',
  'smartphone_subscriptions',
  'fbb_subscriptions',
  'ftth_household_subscriptions',
];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const progress = (m) => process.stderr.write(`\r\x1b[K[bench] ${m}`);
const say = (m) => process.stderr.write(`\r\x1b[K[bench] ${m}\n`);

// ---------- data ----------
const units = cat.AdminUnits.load(join(ROOT, 'data/admin-units'));
const provinces = units
  .all('2008')
  .filter((u) => u.level === 'province')
  .slice(0, PROVINCES);
const communesOf = new Map(provinces.map((p) => [p.code, []]));
for (const u of units.all('2008'))
  if (u.level === 'commune' && communesOf.has(u.province)) communesOf.get(u.province).push(u.code);
let seed = 42;
const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
const run = randomUUID().slice(0, 8);

function buildFeeds() {
  const feeds = [];
  for (const p of provinces) {
    const communes = communesOf.get(p.code);
    feeds.push({
      schema: 'lgsp.feed.v1',
      feedId: `gso-${p.code}-2024-${run}`,
      source: 'gso',
      sentAt: '2024-01-20T00:00:00Z',
      period: '2024',
      observations: communes.flatMap((c) => [
        { area: c, measure: 'population', value: 2_000 + Math.floor(rand() * 20_000) },
        { area: c, measure: 'households', value: 500 + Math.floor(rand() * 5_000) },
      ]),
    });
  }
  for (let m = 1; m <= 12; m++) {
    const period = `2024-${String(m).padStart(2, '0')}`;
    for (const op of OPERATORS)
      for (const p of provinces) {
        const communes = communesOf.get(p.code);
        // a province's communes in feeds of at most ~1,000 observations
        for (let i = 0, part = 0; i < communes.length; i += 140, part++) {
          feeds.push({
            schema: 'lgsp.feed.v1',
            feedId: `${op}-${p.code}-${period}-${part}-${run}`,
            source: op,
            sentAt: `2024-${String(m).padStart(2, '0')}-28T00:00:00Z`,
            period,
            observations: communes.slice(i, i + 140).flatMap((c) => [
              ...COUNTS.map((measure) => ({
                area: c,
                measure,
                value: Math.floor(rand() * 3_000),
              })),
              {
                area: c,
                measure: 'villages_mbb_covered',
                items: [1, 2, 3].filter(() => rand() < 0.7).map((v) => `${c}-${v}`),
              },
              {
                area: c,
                measure: 'bts_sites',
                items: [1, 2].filter(() => rand() < 0.6).map((s) => `S${c}-${s}`),
              },
            ]),
          });
        }
      }
  }
  return feeds;
}

// ---------- infrastructure ----------
const started = { kafka: false, pg: undefined, services: [] };
async function cleanup() {
  for (const s of started.services) if (s.child.exitCode === null) s.child.kill('SIGTERM');
  await sleep(1_000);
  if (started.pg) await started.pg.stop();
  if (started.kafka) await stopKafka('test');
}
for (const signal of ['SIGINT', 'SIGTERM'])
  process.on(signal, () => void cleanup().then(() => process.exit(130)));

const kafkaBrokers =
  process.env.KAFKA_BROKERS ?? ((started.kafka = true), (await startKafka('test')).brokers);
const baseUrl = process.env.DATABASE_URL ?? (started.pg = await startPostgres('test')).url;
const dbName = `bench_${run}`;
{
  const c = new pg.Client(baseUrl);
  await c.connect();
  await c.query(`CREATE DATABASE ${dbName}`);
  await c.end();
}
const dbUrl = Object.assign(new URL(baseUrl), { pathname: `/${dbName}` }).toString();
const kafka = new Kafka({
  clientId: 'bench',
  brokers: kafkaBrokers.split(','),
  logLevel: logLevel.ERROR,
});

async function startService(name, port) {
  const child = spawn(process.execPath, [join(ROOT, 'dist/apps', name, 'src/main.js')], {
    env: {
      ...process.env,
      KAFKA_BROKERS: kafkaBrokers,
      DATABASE_URL: dbUrl,
      LOG_LEVEL: 'warn',
      CONSUMER_START: 'latest',
      INGEST_GROUP: `ingest-${run}`,
      AGGREGATOR_GROUP: `aggregator-${run}`,
      API_PORT: '14000',
      INGEST_PORT: '14001',
      AGGREGATOR_PORT: '14002',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  mkdirSync(join(ROOT, '.data', 'test', 'logs'), { recursive: true });
  const log = createWriteStream(join(ROOT, '.data', 'test', 'logs', `bench-${name}.log`));
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  started.services.push({ name, child, port });
  for (let i = 0; i < 240; i++) {
    if (
      await fetch(`http://127.0.0.1:${port}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return child;
    await sleep(250);
  }
  throw new Error(`${name} did not become healthy`);
}
function peakRssMb(pid) {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmHWM'));
    return Math.round(Number(line.split(/\s+/)[1]) / 1024);
  } catch {
    return null;
  }
}

try {
  say(
    `generating feeds for ${provinces.length} province(s), ${[...communesOf.values()].reduce((n, c) => n + c.length, 0)} communes...`,
  );
  const feeds = buildFeeds();
  const observations = feeds.reduce((n, f) => n + f.observations.length, 0);
  say(`${feeds.length} feeds, ${observations.toLocaleString()} observations`);

  await startService('aggregator', 14002);
  await startService('ingest', 14001);
  await startService('api', 14000);

  // (a) backfill, end to end
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const t0 = Date.now();
  for (let i = 0; i < feeds.length; i += 50) {
    await producer.send({
      topic: 'lgsp.feeds.v1',
      messages: feeds.slice(i, i + 50).map((f) => ({ key: f.source, value: JSON.stringify(f) })),
    });
    progress(`produced ${Math.min(i + 50, feeds.length)}/${feeds.length} feeds`);
  }
  const tProduced = Date.now();
  say(`produced in ${((tProduced - t0) / 1000).toFixed(1)} s`);
  const db = new pg.Client(dbUrl);
  await db.connect();
  let lastPublishAt = 0;
  for (;;) {
    const [
      {
        rows: [f],
      },
      {
        rows: [o],
      },
    ] = await Promise.all([
      db.query('SELECT count(*)::int AS n FROM feed'),
      db.query(
        'SELECT count(*)::int AS n, max(published_at) AS last FROM outbox WHERE published_at IS NOT NULL OR published_at IS NULL',
      ),
    ]);
    const {
      rows: [b],
    } = await db.query('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL');
    const elapsed = (Date.now() - t0) / 1000;
    progress(
      `applied ${f.n}/${feeds.length} feeds, ${o.n} events, backlog ${b.n}, ${elapsed.toFixed(0)} s, ${Math.round((observations * f.n) / feeds.length / elapsed)} obs/s`,
    );
    if (f.n === feeds.length && b.n === 0) {
      const {
        rows: [l],
      } = await db.query('SELECT max(published_at) AS last FROM outbox');
      lastPublishAt = l.last ? new Date(l.last).getTime() : Date.now();
      break;
    }
    if (elapsed > Number(args.timeout ?? 900))
      throw new Error(
        `backfill not done after ${elapsed.toFixed(0)} s (${f.n}/${feeds.length} feeds)`,
      );
    await sleep(1_000);
  }
  const backfillSeconds = (lastPublishAt - t0) / 1000;
  const e2eRate = observations / backfillSeconds;
  say(`backfill: ${backfillSeconds.toFixed(1)} s, ${Math.round(e2eRate).toLocaleString()} obs/s`);

  // (b) the limit: a bare consumer of the same records, JSON.parse only
  const bare = kafka.consumer({ groupId: `bare-${run}` });
  await bare.connect();
  await bare.subscribe({ topic: 'lgsp.feeds.v1', fromBeginning: true });
  let seen = 0,
    seenObs = 0,
    tb0 = 0,
    tb1 = 0;
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
        if (seen >= feeds.length) {
          tb1 = Date.now();
          resolve();
        }
      },
    });
  });
  await bare.disconnect();
  const limitRate = seenObs / ((tb1 - tb0) / 1000);
  say(`limit (bare consumer, JSON.parse): ${Math.round(limitRate).toLocaleString()} obs/s`);

  // (c) freshness at a steady low load: 2 feeds/s for 20 s, new values for one commune each
  const kpiConsumer = kafka.consumer({ groupId: `fresh-${run}` });
  await kpiConsumer.connect();
  await kpiConsumer.subscribe({ topic: 'lgsp.kpi.v1', fromBeginning: false });
  const sentAt = new Map();
  const latencies = [];
  await kpiConsumer.run({
    eachMessage: async ({ message }) => {
      const e = JSON.parse(message.value.toString());
      for (const i of e.inputs ?? []) {
        const t = sentAt.get(i.feedId);
        if (t !== undefined) {
          latencies.push(Date.now() - t);
          sentAt.delete(i.feedId);
        }
      }
    },
  });
  await sleep(3_000);
  const steady = provinces.flatMap((p) => communesOf.get(p.code).slice(0, 5));
  for (let i = 0; i < 40; i++) {
    const c = steady[i % steady.length];
    const f = {
      schema: 'lgsp.feed.v1',
      feedId: `fresh-${i}-${run}`,
      source: 'viettel',
      sentAt: `2024-12-30T00:00:${String(i % 60).padStart(2, '0')}Z`,
      period: '2024-12',
      observations: [{ area: c, measure: 'mbb_subscriptions', value: 100_000 + i }],
    };
    sentAt.set(f.feedId, Date.now());
    await producer.send({
      topic: 'lgsp.feeds.v1',
      messages: [{ key: 'viettel', value: JSON.stringify(f) }],
    });
    progress(`freshness: ${i + 1}/40 feeds`);
    await sleep(500);
  }
  await sleep(5_000);
  await kpiConsumer.disconnect();
  await producer.disconnect();
  latencies.sort((a, b) => a - b);
  const pct = (q) =>
    latencies.length
      ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]
      : null;
  say(`freshness: ${latencies.length}/40 measured, p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms`);

  // (d) memory, database size; (e) events against keys
  const rss = Object.fromEntries(started.services.map((s) => [s.name, peakRssMb(s.child.pid)]));
  const {
    rows: [size],
  } = await db.query('SELECT pg_database_size(current_database())::bigint AS bytes');
  const {
    rows: [keys],
  } = await db.query('SELECT count(*)::int AS n, sum(revision)::int AS events FROM kpi_value');

  // verification: every KPI in the database against a recomputation from the generated data
  say('verifying every KPI against a recomputation...');
  const winners = new Map();
  const steadyFeeds = []; // the freshness feeds are accepted too
  for (let i = 0; i < 40; i++)
    steadyFeeds.push({
      source: 'viettel',
      feedId: `fresh-${i}-${run}`,
      sentAt: new Date(`2024-12-30T00:00:${String(i % 60).padStart(2, '0')}Z`).toISOString(),
      period: '2024-12',
      observations: [
        { area: steady[i % steady.length], measure: 'mbb_subscriptions', value: 100_000 + i },
      ],
    });
  for (const f of [...feeds, ...steadyFeeds])
    for (const o of f.observations) {
      const id = `${f.source}|${o.measure}|${o.area}|${f.period}`;
      const s = new Date(f.sentAt).toISOString();
      const w = winners.get(id);
      if (w && (w.sentAt > s || (w.sentAt === s && w.feedId > f.feedId))) continue;
      winners.set(id, {
        source: f.source,
        measure: o.measure,
        area: o.area,
        period: f.period,
        ...(o.items ? { items: o.items } : { value: o.value }),
        status: 'actual',
        feedId: f.feedId,
        sentAt: s,
      });
    }
  const byProvince = new Map();
  for (const w of winners.values()) {
    const prov = units.get('2008', w.area).province;
    if (!byProvince.has(prov)) byProvince.set(prov, []);
    byProvince.get(prov).push(w);
  }
  const ctx = { units, registry: new cat.SourceRegistry() };
  let checked = 0,
    wrong = 0;
  const examples = [];
  const cursor = await db.query(
    'SELECT kpi, bs, area, period, value, numerator, denominator FROM kpi_value',
  );
  const sets = new Map();
  for (const r of cursor.rows) {
    const prov = units.get(r.bs, r.area).province;
    if (!sets.has(prov)) sets.set(prov, new cat.ObservationSet(byProvince.get(prov) ?? [], units));
    const c = cat.computeKpi(
      { kpi: r.kpi, bs: r.bs, area: r.area, period: r.period },
      sets.get(prov),
      ctx,
    );
    checked++;
    if (c.value !== r.value || c.numerator !== r.numerator || c.denominator !== r.denominator) {
      wrong++;
      if (examples.length < 5)
        examples.push(`${r.kpi}|${r.area}|${r.period}: db ${r.value} vs ${c.value}`);
    }
    if (checked % 20_000 === 0) progress(`verified ${checked}/${cursor.rows.length}`);
  }
  say(
    `verified ${checked} KPIs: ${wrong} differ${examples.length ? ` (${examples.join('; ')})` : ''}`,
  );
  await db.end();

  const result = {
    at: new Date().toISOString(),
    machine: `${(await import('node:os')).cpus().length} cores`,
    provinces: provinces.length,
    feeds: feeds.length,
    observations,
    backfill: {
      seconds: backfillSeconds,
      obsPerSecond: Math.round(e2eRate),
      producedSeconds: (tProduced - t0) / 1000,
    },
    limit: { obsPerSecond: Math.round(limitRate) },
    ratio: e2eRate / limitRate,
    freshness: { measured: latencies.length, p50ms: pct(0.5), p99ms: pct(0.99) },
    peakRssMb: rss,
    databaseMb: Math.round(Number(size.bytes) / 2 ** 20),
    kpiKeys: keys.n,
    kpiEvents: keys.events,
    verification: { checked, wrong, examples },
  };
  const file = join(ROOT, 'bench', `results-${result.at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2));
  const rows = [
    [
      'scale',
      `${provinces.length} provinces, ${feeds.length} feeds, ${observations.toLocaleString()} observations`,
      '',
    ],
    [
      '(a) end-to-end backfill',
      `${Math.round(e2eRate).toLocaleString()} obs/s (${backfillSeconds.toFixed(1)} s)`,
      '≥ 50,000 obs/s',
    ],
    ['(b) limit: bare consumer', `${Math.round(limitRate).toLocaleString()} obs/s`, ''],
    ['    ratio a/b', `${(e2eRate / limitRate).toFixed(3)}`, '≥ 0.5'],
    [
      '(c) freshness p50 / p99',
      `${pct(0.5)} / ${pct(0.99)} ms (${latencies.length}/40)`,
      'p99 < 1,000 ms',
    ],
    [
      '(d) peak RSS',
      Object.entries(rss)
        .map(([k, v]) => `${k} ${v} MB`)
        .join(', '),
      '< 300 MB each',
    ],
    ['    database size', `${result.databaseMb} MB`, ''],
    [
      '(e) KPI events / keys',
      `${keys.events.toLocaleString()} / ${keys.n.toLocaleString()}`,
      '1 per changed key per batch',
    ],
    ['verification', `${checked.toLocaleString()} KPIs, ${wrong} differ`, '0 differ'],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length)),
    w1 = Math.max(...rows.map((r) => r[1].length));
  process.stdout.write(
    '\n' +
      rows.map((r) => `${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}`).join('\n') +
      `\n\nwritten ${file}\n`,
  );
  process.exitCode = wrong ? 1 : 0;
} finally {
  await cleanup();
}
