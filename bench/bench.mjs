#!/usr/bin/env node
/**
 * `npm run bench [-- --provinces N] [-- --aggregators 2]`: the hub against the limit, in one
 * run, on this machine.
 *
 * Backfill: one year of monthly commune-level feeds (2008-era commune list) from 4 operators
 * and the statistics office: 5 counts, village coverage and BTS site sets per commune;
 * population, households and villages per commune. `--provinces N` takes the first N
 * provinces (default all 63: 10,051 communes, about 3.4 million observations).
 * Measures (a) end-to-end throughput, first feed produced to the last KPI event published,
 * with the CPU seconds of each process and the machine's steal meanwhile (a virtual machine's
 * cores waiting for the hypervisor: the same work then takes longer);
 * (b) the limit: a bare kafkajs consumer reading the same feeds doing only JSON.parse;
 * (b') the floor: that consumer again while a bare producer publishes the backfill's KPI events
 * (floor.mjs), the least any hub must do, which bounds a/b (`--floor-writers N`: N producer
 * threads, each with a share of the partitions; default 2, one per core here);
 * (c) freshness at a steady low load (p50/p99 feed produced -> KPI event consumed), and after a
 * restart of the aggregator, one feed per group while each group loads from PostgreSQL;
 * (d) peak RSS per service and the database size; (e) KPI events against keys and batch
 * windows (flushes). Then checks every KPI in the database against a recomputation from the
 * generated data with the reference arithmetic, and the latest event per key on lgsp.kpi.v1
 * against the database. Prints a table, writes bench/results-*.json. `--log-level debug` (the
 * services' LOG_LEVEL; default warn) logs why and when the aggregator publishes, into
 * .data/test/logs/bench-aggregator.log.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  createWriteStream,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import pg from 'pg';
import { EventPack, measureFloor } from './floor.mjs';
import { backfill } from './workload.mjs';
import {
  NODE_FLAGS,
  ROOT,
  serviceEnv,
  startKafka,
  startPostgres,
  stopKafka,
} from '../scripts/infra.mjs';

const cat = await import(join(ROOT, 'dist/libs/catalogue/src/index.js'));
// The reference arithmetic the engine is checked against (not part of any service).
const reference = await import(join(ROOT, 'dist/libs/aggregation/src/reference.js'));
const contract = await import(join(ROOT, 'dist/libs/contract/src/index.js'));
const args = Object.fromEntries(
  process.argv
    .slice(2)
    .map((a, i, all) => (a.startsWith('--') ? [a.slice(2), all[i + 1]] : []))
    .filter((x) => x.length),
);
const PROVINCES = Number(args.provinces ?? 63);
const AGGREGATORS = Number(args.aggregators ?? 1);
const TIMEOUT_S = Number(args.timeout ?? 480);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** One line, rewritten in place on a terminal; into a log file, a line every 5 s at most. */
let lastLogged = 0;
const progress = (m) => {
  if (process.stderr.isTTY) return void process.stderr.write(`\r\x1b[K[bench] ${m}`);
  if (Date.now() - lastLogged < 5_000) return;
  lastLogged = Date.now();
  process.stderr.write(`[bench] ${m}\n`);
};
const say = (m) =>
  process.stderr.write(process.stderr.isTTY ? `\r\x1b[K[bench] ${m}\n` : `[bench] ${m}\n`);
const fmt = (n) => Math.round(n).toLocaleString('en-US');

// ---------- data ----------
const units = cat.AdminUnits.load(join(ROOT, 'data/admin-units'));
const run = randomUUID().slice(0, 8);
const { provinces, communesOf, communeCount, buildFeeds } = backfill(units, PROVINCES, run);
/** Feeds of the steady phase (c), 2 per second. */
const FRESH_FEEDS = 100;

// ---------- infrastructure ----------
const started = { kafka: false, pg: undefined, services: [], stopping: false };
async function cleanup() {
  // PostgreSQL ends the bench's own session when it stops: an error that must not end this
  // process before it has stopped Kafka.
  started.stopping = true;
  for (const s of started.services) if (s.child.exitCode === null) s.child.kill('SIGTERM');
  for (let i = 0; i < 100 && started.services.some((s) => s.child.exitCode === null); i++)
    await sleep(100);
  for (const s of started.services) if (s.child.exitCode === null) s.child.kill('SIGKILL');
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
  // Nothing once the bench is stopping: its clients retry a broker that is going away.
  logCreator:
    () =>
    ({ namespace, log }) =>
      started.stopping || console.error(`[kafkajs] ${namespace}: ${log.message}`),
});
const logDir = join(ROOT, '.data', 'test', 'logs');
mkdirSync(logDir, { recursive: true });

/**
 * `--profile`: every service writes V8 CPU profiles into .data/prof/<service> when it stops,
 * one per thread (Node names them CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile).
 */
const PROFILE = 'profile' in args || process.argv.includes('--profile');
async function startService(name, port, instance = '', extra = {}) {
  const flags = [
    ...(PROFILE
      ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, '.data', 'prof', `${name}${instance}`)}`]
      : []),
    ...(NODE_FLAGS[name] ?? []),
    // Given last, so they win over the defaults.
    ...(args[`${name}-node`] ? args[`${name}-node`].split(' ') : []),
  ];
  const child = spawn(process.execPath, [...flags, join(ROOT, 'dist/apps', name, 'src/main.js')], {
    env: {
      ...serviceEnv(name),
      ...process.env,
      KAFKA_BROKERS: kafkaBrokers,
      DATABASE_URL: dbUrl,
      LOG_LEVEL: args['log-level'] ?? 'warn',
      CONSUMER_START: 'latest',
      INGEST_GROUP: `ingest-${run}`,
      AGGREGATOR_GROUP: `aggregator-${run}`,
      API_PORT: '14000',
      INGEST_PORT: '14001',
      AGGREGATOR_PORT: String(port),
      RELAY_PORT: String(port),
      ...(args['flush-delay'] ? { KPI_FLUSH_MAX_DELAY_MS: String(args['flush-delay']) } : {}),
      // `--aggregator-env "MALLOC_MMAP_THRESHOLD_=131072"`: for one service only.
      ...Object.fromEntries(
        (args[`${name}-env`] ?? '')
          .split(' ')
          .filter(Boolean)
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      ),
      ...extra.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(join(logDir, `bench-${name}${instance}.log`), {
    flags: extra.append ? 'a' : 'w',
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  started.services.push({ name: `${name}${instance}`, child, port });
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited; see ${logDir}`);
    if (
      await fetch(`http://127.0.0.1:${port}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return child;
    await sleep(250);
  }
  throw new Error(`${name} did not become healthy; see ${logDir}`);
}
/** CPU seconds (user + system) a process has used so far; with `children`, also its children. */
function cpuSeconds(pid, children = false) {
  /** utime + stime, and with `reaped` the children it has waited for (cutime + cstime). */
  const one = (p, reaped = false) => {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
      const own = Number(f[11]) + Number(f[12]);
      return (own + (reaped ? Number(f[13]) + Number(f[14]) : 0)) / 100;
    } catch {
      return 0;
    }
  };
  if (!children) return one(pid);
  // PostgreSQL: the postmaster, its live backends, and those that ended (a closed connection).
  let total = one(pid, true);
  for (const d of readdirSync('/proc'))
    if (/^\d+$/.test(d)) {
      try {
        const ppid = Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
        if (ppid === pid) total += one(Number(d));
      } catch {
        /* gone */
      }
    }
  return total;
}
/** The processes whose CPU the run accounts for: services, broker, database, this one. */
function cpuNow() {
  const out = Object.fromEntries(started.services.map((s) => [s.name, cpuSeconds(s.child.pid)]));
  const pidOf = (file) => {
    try {
      return Number(readFileSync(join(ROOT, '.data', 'test', file), 'utf8').split('\n')[0]);
    } catch {
      return undefined;
    }
  };
  const kafkaPid = started.kafka ? pidOf('kafka.pid') : undefined;
  const pgPid = started.pg ? pidOf(join('pg', 'postmaster.pid')) : undefined;
  if (kafkaPid) out.kafka = cpuSeconds(kafkaPid);
  if (pgPid) out.postgres = cpuSeconds(pgPid, true);
  out.bench = cpuSeconds(process.pid);
  Object.assign(out, machineSeconds());
  return out;
}
/**
 * The whole machine's CPU seconds, summed over its cores (/proc/stat): `idle` (nothing to
 * run) and `steal` (a virtual machine's cores runnable, but the hypervisor running something
 * else). Steal stretches a run's wall time without showing in its processes' CPU seconds;
 * a core that runs slower (a busy neighbour on the same physical core) shows in neither.
 */
function machineSeconds() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
    return { idle: Number(f[4]) / 100, steal: Number(f[8] ?? 0) / 100 };
  } catch {
    return {};
  }
}
/** A memory figure of /proc/<pid>/status in MB: `VmHWM` (peak RSS) or `VmRSS` (now). */
function statusMb(pid, field) {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(field));
    return Math.round(Number(line.split(/\s+/)[1]) / 1024);
  } catch {
    return null;
  }
}
const peakRssMb = (pid) => statusMb(pid, 'VmHWM');

/** Each partition's end offset, per topic: `{ [topic]: [{ partition, offset }] }`. */
async function topicEnds(topics) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const out = {};
    for (const topic of topics)
      out[topic] = (await admin.fetchTopicOffsets(topic)).map((p) => ({
        partition: p.partition,
        offset: Number(p.high),
      }));
    return out;
  } finally {
    await admin.disconnect();
  }
}
const startOf = (offsets, partition) => offsets.find((p) => p.partition === partition)?.offset ?? 0;

/**
 * Starts a new consumer group where this run's records begin on `topic`: a broker given in
 * KAFKA_BROKERS keeps earlier runs' records, which the limit (b) and the verification would
 * otherwise read (and (b) parse) as well.
 */
async function fromRunStart(groupId, topic, starts) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.setOffsets({
      groupId,
      topic,
      partitions: starts[topic].map((p) => ({ partition: p.partition, offset: String(p.offset) })),
    });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Watches lgsp.kpi.v1 from now on for events whose inputs name feeds in `sentAt` (feed id ->
 * time produced), and records each such feed's latency once, in `latencies`, and in `steps`
 * when (ms after it was produced) its event was computed (`computedAt`) and published (the
 * record's timestamp, set by the relay's producer).
 */
async function watchLatencies(groupId) {
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topic: 'lgsp.kpi.v1', fromBeginning: false });
  const sentAt = new Map();
  const latencies = [];
  const steps = new Map();
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  await consumer.run({
    eachMessage: async ({ message }) => {
      const e = JSON.parse(message.value.toString());
      for (const i of e.inputs ?? []) {
        const t = sentAt.get(i.feedId);
        if (t !== undefined) {
          const total = Date.now() - t;
          latencies.push(total);
          steps.set(i.feedId, {
            produced: t,
            total,
            computed: Date.parse(e.computedAt) - t,
            published: Number(message.timestamp) - t,
          });
          sentAt.delete(i.feedId);
        }
      }
    },
  });
  while (!joined) await sleep(100);
  await sleep(2_000);
  return { sentAt, latencies, steps, stop: () => consumer.disconnect() };
}

try {
  say(`generating feeds for ${provinces.length} province(s), ${fmt(communeCount)} communes...`);
  const feeds = buildFeeds();
  const observations = feeds.reduce((n, f) => n + f.observations.length, 0);
  say(`${fmt(feeds.length)} feeds, ${fmt(observations)} observations`);

  for (let i = 0; i < AGGREGATORS; i++)
    await startService('aggregator', 14002 + i * 10, AGGREGATORS > 1 ? `-${i + 1}` : '');
  await startService('relay', 14003);
  await startService('ingest', 14001);
  await startService('api', 14000);
  // What the services take before any feed: the floor under (d).
  const rssIdle = Object.fromEntries(
    started.services.map((s) => [s.name, statusMb(s.child.pid, 'VmRSS')]),
  );
  const db = new pg.Client(dbUrl);
  db.on('error', (e) => {
    if (!started.stopping) throw e;
  });
  await db.connect();
  const runStart = await topicEnds(['lgsp.feeds.v1', 'lgsp.kpi.v1']);
  // One slice per feed and group; every generated feed lies within one province.
  const expectedSlices = feeds.length;

  // (a) backfill, end to end
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const cpu0 = cpuNow();
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
  let done;
  const timeline = [];
  let cpuBefore = cpu0;
  let tBefore = t0;
  for (;;) {
    const {
      rows: [s],
    } = await db.query(
      `SELECT (SELECT count(*)::int FROM feed_slice) AS slices,
              (SELECT count(*)::int FROM aggregation_group WHERE applied_seq > published_seq) AS unpublished,
              (SELECT coalesce(max(id), 0)::text FROM kpi_change) AS written,
              (SELECT last_id::text FROM relay_position WHERE topic = 'lgsp.kpi.v1') AS relayed,
              (SELECT updated_at FROM relay_position WHERE topic = 'lgsp.kpi.v1') AS relayed_at`,
    );
    const elapsed = (Date.now() - t0) / 1000;
    const applied = Math.min(1, s.slices / expectedSlices);
    // Cores each process used since the previous sample (1.0 = one core all the time).
    const cpuAt = cpuNow();
    const cores = Object.fromEntries(
      Object.keys(cpuAt).map((k) => [
        k,
        Math.round(((cpuAt[k] - (cpuBefore[k] ?? 0)) / ((Date.now() - tBefore) / 1000)) * 100) /
          100,
      ]),
    );
    cpuBefore = cpuAt;
    tBefore = Date.now();
    timeline.push({
      s: Math.round(elapsed * 10) / 10,
      slices: s.slices,
      eventsWritten: Number(s.written),
      eventsPublished: Number(s.relayed ?? 0),
      cores,
      rssMb: Object.fromEntries(
        started.services.map((x) => [x.name, statusMb(x.child.pid, 'VmRSS')]),
      ),
    });
    progress(
      `${elapsed.toFixed(0)} s: feeds applied ${s.slices}/${expectedSlices} (${fmt((observations * applied) / elapsed)} obs/s), ` +
        `groups unpublished ${s.unpublished}, KPI events written ${fmt(Number(s.written))}, published ${fmt(Number(s.relayed ?? 0))}`,
    );
    if (s.slices >= expectedSlices && s.unpublished === 0 && s.relayed === s.written) {
      done = s;
      break;
    }
    if (elapsed > TIMEOUT_S)
      throw new Error(
        `backfill not done after ${elapsed.toFixed(0)} s (${s.slices}/${expectedSlices} slices, ${s.unpublished} groups unpublished, ${s.relayed}/${s.written} events published); service logs in ${logDir}`,
      );
    await sleep(1_000);
  }
  const backfillSeconds = (new Date(done.relayed_at).getTime() - t0) / 1000;
  // Every event of the backfill is on lgsp.kpi.v1 now (relayed = written): the floor replays them.
  const backfillEnds = await topicEnds(['lgsp.kpi.v1']);
  const cpu1 = cpuNow();
  const cpuWindow = (Date.now() - t0) / 1000;
  const cpu = Object.fromEntries(
    Object.keys(cpu1).map((k) => [k, Math.round((cpu1[k] - (cpu0[k] ?? 0)) * 10) / 10]),
  );
  const { idle, steal, ...processes } = cpu;
  say(
    `CPU seconds during the backfill: ${Object.entries(processes)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}` +
      (steal !== undefined
        ? `; the machine's ${cpus().length} cores, of ${(cpus().length * cpuWindow).toFixed(1)}: idle ${idle}, taken by the hypervisor (steal) ${steal}`
        : ''),
  );
  const e2eRate = observations / backfillSeconds;
  say(
    `backfill: ${backfillSeconds.toFixed(1)} s, ${fmt(e2eRate)} obs/s, ${fmt(Number(done.written))} KPI events`,
  );
  // What each aggregator's held state takes in typed arrays (its /health, kpis.stateMb).
  const stateMb = {};
  for (const a of started.services.filter((x) => x.name.startsWith('aggregator'))) {
    const h = await fetch(`http://127.0.0.1:${a.port}/health`).then(
      (r) => r.json(),
      () => undefined,
    );
    stateMb[a.name] = h?.checks?.kpis?.detail?.stateMb ?? null;
  }
  for (const [name, mb] of Object.entries(stateMb))
    if (mb)
      say(
        `${name} memory: ${rssIdle[name]} MB RSS before any feed; state held ${mb.total} MB ` +
          `(observations ${mb.observations}, item sets ${mb.itemSets}, published keys ${mb.published}, ` +
          `dirty marks ${mb.dirty}, pending cells ${mb.pending})`,
      );
  const rssBackfill = Object.fromEntries(
    started.services.map((s) => [s.name, peakRssMb(s.child.pid)]),
  );

  // (b) the limit: a bare consumer of the same records, JSON.parse only
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

  // (c) freshness at a steady low load: 2 feeds/s for 50 s, a new value for one commune each.
  // 100 feeds, so that the p99 (nearest rank) is the second largest latency, not the largest.
  const { sentAt, latencies, steps, stop: stopFresh } = await watchLatencies(`fresh-${run}`);
  // The bench's own pauses (its heap holds every generated feed) delay when it sees an event:
  // counted, so that a slow latency can be told from a slow hub.
  const benchPauses = [];
  const gcWatch = new PerformanceObserver((l) =>
    l.getEntries().forEach((e) => e.duration >= 50 && benchPauses.push(Math.round(e.duration))),
  );
  gcWatch.observe({ entryTypes: ['gc'] });
  const steady = provinces.flatMap((p) => communesOf.get(p.code).slice(0, 5));
  const steadyFeeds = [];
  for (let i = 0; i < FRESH_FEEDS; i++) {
    const f = {
      schema: 'lgsp.feed.v1',
      feedId: `fresh-${i}-${run}`,
      source: 'viettel',
      sentAt: `2024-12-30T00:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`,
      period: '2024-12',
      observations: [
        { area: steady[i % steady.length], measure: 'mbb_subscriptions', value: 100_000 + i },
      ],
    };
    steadyFeeds.push(f);
    sentAt.set(f.feedId, Date.now());
    await producer.send({
      topic: 'lgsp.feeds.v1',
      messages: [{ key: 'viettel', value: JSON.stringify(f) }],
    });
    progress(`freshness: ${i + 1}/${FRESH_FEEDS} feeds`);
    await sleep(500);
  }
  for (let i = 0; i < 50 && sentAt.size > 0; i++) await sleep(200);
  await stopFresh();
  await producer.disconnect();
  latencies.sort((a, b) => a - b);
  const pct = (q) =>
    latencies.length
      ? latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)]
      : null;
  gcWatch.disconnect();
  // Where the slowest feeds waited: until the aggregator stored their slice (the ingest and
  // the slices topic), until their event was computed (the debounce and the flush), until the
  // relay published it, and until the bench read it.
  const slowest = [...steps].sort((a, b) => b[1].total - a[1].total).slice(0, 3);
  const { rows: appliedRows } = await db.query(
    'SELECT feed_id, applied_at FROM feed_slice WHERE feed_id = ANY($1::text[])',
    [slowest.map(([id]) => id)],
  );
  const appliedAt = new Map(appliedRows.map((r) => [r.feed_id, new Date(r.applied_at).getTime()]));
  const slowSteps = slowest.map(([id, { produced, ...x }]) => ({
    feedId: id,
    ...x,
    applied: (appliedAt.get(id) ?? NaN) - produced,
  }));
  say(
    `freshness: ${latencies.length}/${FRESH_FEEDS} measured, p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms (slowest: ${latencies.slice(-5).join(', ')} ms); ` +
      `the bench's own GC pauses of 50 ms or more meanwhile: ${benchPauses.length ? benchPauses.join(', ') + ' ms' : 'none'}; ` +
      `the slowest, ms after produced: ${slowSteps.map((x) => `slice stored ${x.applied}, event computed ${x.computed}, published ${x.published}, read ${x.total}`).join('; ')}`,
  );

  // (d) memory, database size; (e) events against keys and batch windows
  const rss = Object.fromEntries(started.services.map((s) => [s.name, peakRssMb(s.child.pid)]));
  const {
    rows: [size],
  } = await db.query('SELECT pg_database_size(current_database())::bigint AS bytes');
  const {
    rows: [ev],
  } = await db.query(
    `SELECT (SELECT count(*)::int FROM kpi_value) AS keys,
            (SELECT count(*)::int FROM kpi_change) AS events,
            (SELECT count(DISTINCT flush_id)::int FROM kpi_change) AS flushes,
            (SELECT coalesce(max(n), 0)::int FROM (SELECT count(*) AS n FROM kpi_change
               GROUP BY flush_id, kpi, area, period) x) AS per_key_per_flush`,
  );

  // verification 1: every KPI in the database against a recomputation from the generated data
  say('verifying every KPI against a recomputation with the reference arithmetic...');
  const byProvince = new Map();
  for (const f of [...feeds, ...steadyFeeds])
    for (const o of f.observations) {
      const prov = units.get('2008', o.area).province;
      if (!byProvince.has(prov)) byProvince.set(prov, new Map());
      const id = `${f.source}|${o.measure}|${o.area}|${f.period}`;
      const s = new Date(f.sentAt).toISOString();
      const w = byProvince.get(prov).get(id);
      if (w && (w.sentAt > s || (w.sentAt === s && w.feedId > f.feedId))) continue;
      byProvince.get(prov).set(id, {
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
  const ctx = { units, registry: new cat.SourceRegistry() };
  let checked = 0;
  let wrong = 0;
  const examples = [];
  const { rows: stored } = await db.query(
    'SELECT kpi, bs, area, period, value, numerator, denominator, status, revision FROM kpi_value',
  );
  const byProv = new Map();
  for (const r of stored) {
    const prov = units.get(r.bs, r.area).province;
    if (!byProv.has(prov)) byProv.set(prov, []);
    byProv.get(prov).push(r);
  }
  for (const [prov, rows] of byProv) {
    const set = new reference.ObservationSet([...(byProvince.get(prov)?.values() ?? [])], units);
    for (const r of rows) {
      const c = reference.computeKpi(
        { kpi: r.kpi, bs: r.bs, area: r.area, period: r.period },
        set,
        ctx,
      );
      checked++;
      if (
        c.value !== r.value ||
        c.numerator !== r.numerator ||
        c.denominator !== r.denominator ||
        c.status !== r.status
      ) {
        wrong++;
        if (examples.length < 5)
          examples.push(`${r.kpi}|${r.area}|${r.period}: db ${r.value} vs ${c.value}`);
      }
      if (checked % 50_000 === 0) progress(`verified ${fmt(checked)}/${fmt(stored.length)}`);
    }
    byProvince.delete(prov);
  }
  // Keys the recomputation has but the hub never published.
  let missing = 0;
  say(
    `verified ${fmt(checked)} KPIs: ${wrong} differ${examples.length ? ` (${examples.join('; ')})` : ''}`,
  );

  // verification 2: the latest event per key on lgsp.kpi.v1 equals the database
  say('reading lgsp.kpi.v1 to compare the latest event per key with the database...');
  const latest = new Map();
  const topicReader = kafka.consumer({ groupId: `verify-${run}`, maxBytesPerPartition: 8 << 20 });
  await fromRunStart(`verify-${run}`, 'lgsp.kpi.v1', runStart);
  await topicReader.connect();
  await topicReader.subscribe({ topic: 'lgsp.kpi.v1', fromBeginning: true });
  const ends = (await topicEnds(['lgsp.kpi.v1']))['lgsp.kpi.v1'];
  const reached = new Map();
  const began = new Date(t0 - 60_000).toISOString();
  // The backfill's events, as published, for the floor (b'): one pack per producer thread.
  const packs = Array.from({ length: Number(args['floor-writers'] ?? 2) }, () => new EventPack());
  const backfillEnd = (partition) => startOf(backfillEnds['lgsp.kpi.v1'], partition);
  await new Promise((resolve) => {
    const check = () => {
      if (
        ends.every(
          ({ partition, offset }) =>
            offset === startOf(runStart['lgsp.kpi.v1'], partition) ||
            (reached.get(partition) ?? -1) >= offset - 1,
        )
      )
        resolve();
    };
    check();
    void topicReader.run({
      eachBatch: async ({ batch }) => {
        const end = backfillEnd(batch.partition);
        for (const m of batch.messages) {
          if (Number(m.offset) < end) packs[batch.partition % packs.length].add(m.key, m.value);
          const e = JSON.parse(m.value.toString());
          if (e.computedAt < began) continue;
          const k = m.key.toString();
          const prev = latest.get(k);
          if (!prev || prev.revision < e.revision)
            latest.set(k, { revision: e.revision, value: e.value });
        }
        reached.set(batch.partition, Number(batch.lastOffset()));
        progress(`read ${fmt(latest.size)} keys from lgsp.kpi.v1`);
        check();
      },
    });
  });
  await topicReader.disconnect();
  let topicWrong = 0;
  const topicExamples = [];
  for (const r of stored) {
    const e = latest.get(`${r.kpi}|${r.area}|${r.period}`);
    if (!e || e.revision !== r.revision || e.value !== r.value) {
      topicWrong++;
      if (topicExamples.length < 3) topicExamples.push(`${r.kpi}|${r.area}|${r.period}`);
    }
  }
  missing = latest.size - stored.length;
  say(
    `lgsp.kpi.v1: ${fmt(latest.size)} keys, ${topicWrong} differ from the database${topicExamples.length ? ` (${topicExamples.join(', ')})` : ''}`,
  );
  await db.end();

  // (b') the floor: reading the feeds and publishing the backfill's KPI events, nothing else
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

  // (f) a restart: the aggregator stops and starts again with nothing in memory; one feed for
  // each group then makes the group load its state from PostgreSQL (replaying its slices).
  const restart = await (async () => {
    const agg = started.services.find((s) => s.name.startsWith('aggregator'));
    const exited = new Promise((r) => agg.child.once('exit', r));
    agg.child.kill('SIGTERM');
    await exited;
    started.services.splice(started.services.indexOf(agg), 1);
    const tStart = Date.now();
    const instance = agg.name.slice('aggregator'.length);
    const logFile = join(logDir, `bench-aggregator${instance}.log`);
    const logStart = statSync(logFile).size;
    // At log level, for its "loaded group" lines (slices replayed, milliseconds).
    const child = await startService('aggregator', agg.port, instance, {
      env: { LOG_LEVEL: 'log' },
      append: true,
    });
    // Up: healthy and holding its partitions of the slices topic again.
    for (let i = 0; i < 600; i++) {
      const h = await fetch(`http://127.0.0.1:${agg.port}/health`).then(
        (r) => r.json(),
        () => undefined,
      );
      if (h?.checks?.consumer?.detail?.assignment?.['lgsp.feed-slices.v1']?.length) break;
      await sleep(100);
    }
    const upSeconds = (Date.now() - tStart) / 1000;
    const byGroup = new Map();
    for (const p of provinces) {
      const g = units.groupOf('2008', p.code);
      if (!byGroup.has(g)) byGroup.set(g, communesOf.get(p.code)[0]);
    }
    const { sentAt: pending, latencies: took, stop } = await watchLatencies(`restart-${run}`);
    const p2 = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await p2.connect();
    const t0r = Date.now();
    const sent = [...byGroup].map(([g, commune]) => ({
      schema: 'lgsp.feed.v1',
      feedId: `restart-${g}-${run}`,
      source: 'viettel',
      sentAt: '2024-12-31T00:00:00Z',
      period: '2024-12',
      observations: [{ area: commune, measure: 'mbb_subscriptions', value: 123_456 }],
    }));
    for (const f of sent) pending.set(f.feedId, t0r);
    await p2.send({
      topic: 'lgsp.feeds.v1',
      messages: sent.map((f) => ({ key: f.source, value: JSON.stringify(f) })),
    });
    for (let i = 0; i < 600 && pending.size > 0; i++) {
      await sleep(200);
      progress(`after the restart: ${took.length}/${sent.length} groups published`);
    }
    await p2.disconnect();
    await stop();
    took.sort((a, b) => a - b);
    const loads = [];
    for (const line of readFileSync(logFile, 'utf8').slice(logStart).split('\n')) {
      const m = /loaded group (\w+): (\d+) slice\(s\), (\d+) observation\(s\).* in (\d+) ms/.exec(
        line,
      );
      if (m)
        loads.push({
          group: m[1],
          slices: Number(m[2]),
          cells: Number(m[3]),
          ms: Number(m[4]),
        });
    }
    const out = {
      upSeconds,
      /** The restarted aggregator's peak RSS: it loaded every group. */
      peakRssMb: peakRssMb(child.pid),
      loads: {
        groups: loads.length,
        cells: loads.reduce((n, l) => n + l.cells, 0),
        ms: loads.reduce((n, l) => n + l.ms, 0),
        maxMs: Math.max(0, ...loads.map((l) => l.ms)),
      },
      groups: sent.length,
      published: took.length,
      p50ms: took[Math.floor((took.length - 1) / 2)] ?? null,
      maxMs: took.at(-1) ?? null,
    };
    say(
      `after a restart: up in ${upSeconds.toFixed(1)} s; one feed per group (${out.groups}) to its event, cold: p50 ${out.p50ms} ms, last ${out.maxMs} ms (${out.published}/${out.groups}); ${out.loads.groups} group loads rebuilt ${fmt(out.loads.cells)} cells in ${fmt(out.loads.ms)} ms (largest ${out.loads.maxMs} ms); peak RSS ${out.peakRssMb} MB`,
    );
    return out;
  })();

  const result = {
    at: new Date().toISOString(),
    machine: `${cpus().length} cores, ${cpus()[0]?.model ?? ''}`.trim(),
    provinces: provinces.length,
    communes: communeCount,
    aggregators: AGGREGATORS,
    feeds: feeds.length,
    observations,
    backfill: {
      seconds: backfillSeconds,
      obsPerSecond: Math.round(e2eRate),
      producedSeconds: (tProduced - t0) / 1000,
      // Per process, and the machine's idle and steal over cpuWindowSeconds × its cores.
      cpuSeconds: cpu,
      cpuWindowSeconds: cpuWindow,
      timeline,
    },
    limit: { obsPerSecond: Math.round(limitRate) },
    ratio: e2eRate / limitRate,
    floor: { ...floor, obsPerSecond: Math.round(floor.obsPerSecond) },
    floorRatio: floor.obsPerSecond / limitRate,
    freshness: {
      measured: latencies.length,
      p50ms: pct(0.5),
      p90ms: pct(0.9),
      p99ms: pct(0.99),
      slowestMs: latencies.slice(-5),
      benchGcPausesMs: benchPauses,
      slowest: slowSteps,
    },
    restart,
    peakRssMb: { backfill: rssBackfill, end: rss },
    idleRssMb: rssIdle,
    stateMb,
    databaseMb: Math.round(Number(size.bytes) / 2 ** 20),
    kpiKeys: ev.keys,
    kpiEvents: ev.events,
    flushes: ev.flushes,
    maxEventsPerKeyPerFlush: ev.per_key_per_flush,
    verification: {
      checked,
      wrong,
      examples,
      topicKeys: latest.size,
      topicWrong,
      topicExtraKeys: missing,
    },
  };
  const file = join(ROOT, 'bench', `results-${result.at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2));
  const ok = (b) => (b ? 'met' : 'NOT MET');
  const rssMax = Math.max(...Object.values(rss).filter((v) => v !== null));
  const rows = [
    ['', 'measured', 'target', ''],
    [
      'scale',
      `${provinces.length} provinces, ${fmt(communeCount)} communes, ${fmt(feeds.length)} feeds, ${fmt(observations)} observations, ${AGGREGATORS} aggregator(s)`,
      '',
      '',
    ],
    [
      '(a) end-to-end backfill',
      `${fmt(e2eRate)} obs/s (${backfillSeconds.toFixed(1)} s, first feed produced to last KPI event published)`,
      '≥ 50,000 obs/s',
      ok(e2eRate >= 50_000),
    ],
    ...(steal !== undefined
      ? [
          [
            '    the machine meanwhile',
            `${cpus().length} cores: ${steal} CPU s taken by the hypervisor (steal), ${idle} idle, of ${(cpus().length * cpuWindow).toFixed(0)}`,
            '',
            '',
          ],
        ]
      : []),
    ['(b) limit: bare consumer', `${fmt(limitRate)} obs/s (JSON.parse only)`, '', ''],
    [
      '    ratio a/b',
      e2eRate / limitRate >= 0.01 ? (e2eRate / limitRate).toFixed(3) : '<0.01',
      '≥ 0.5',
      ok(e2eRate / limitRate >= 0.5) +
        (floor.obsPerSecond / limitRate < 0.5 ? ' (out of reach here: floor/b < 0.5)' : ''),
    ],
    [
      "(b') floor: read + publish only",
      `${fmt(floor.obsPerSecond)} obs/s (${floor.seconds.toFixed(1)} s: parsing the feeds while publishing the backfill's ${fmt(floor.publish.events)} KPI events, nothing stored)`,
      '',
      '',
    ],
    [
      '    floor/b; a/floor',
      `${(floor.obsPerSecond / limitRate).toFixed(3)}; ${(e2eRate / floor.obsPerSecond).toFixed(3)}`,
      '',
      '',
    ],
    [
      '(c) freshness p50 / p99',
      `${pct(0.5)} / ${pct(0.99)} ms (${latencies.length}/${FRESH_FEEDS} feeds at 2/s)`,
      'p99 < 1,000 ms',
      ok(latencies.length === FRESH_FEEDS && pct(0.99) < 1_000),
    ],
    [
      '    after a restart',
      `up in ${restart.upSeconds.toFixed(1)} s; a feed per group (cold) to its event: p50 ${restart.p50ms} ms, last ${restart.maxMs} ms; loads ${fmt(restart.loads.ms)} ms; peak RSS ${restart.peakRssMb} MB`,
      '',
      restart.published === restart.groups ? '' : `${restart.groups - restart.published} missing`,
    ],
    [
      '(d) peak RSS',
      Object.entries(rss)
        .map(([k, v]) => `${k} ${v} MB`)
        .join(', '),
      '< 300 MB each',
      ok(rssMax < 300),
    ],
    [
      '    aggregator floor',
      Object.entries(stateMb)
        .map(
          ([k, mb]) =>
            `${k} ${rssIdle[k]} MB before any feed, state ${mb?.total ?? '?'} MB after the backfill`,
        )
        .join('; '),
      '',
      '',
    ],
    ['    database size', `${fmt(result.databaseMb)} MB`, '', ''],
    [
      '(e) KPI events / keys',
      `${fmt(ev.events)} events for ${fmt(ev.keys)} keys in ${fmt(ev.flushes)} batch windows (at most ${ev.per_key_per_flush} per key per window)`,
      '1 per changed key per window',
      ok(ev.per_key_per_flush === 1),
    ],
    [
      'verification',
      `${fmt(checked)} KPIs recomputed: ${wrong} differ; lgsp.kpi.v1: ${topicWrong} differ`,
      '0 differ',
      ok(wrong === 0 && topicWrong === 0),
    ],
  ];
  const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
  process.stdout.write(
    '\n' +
      rows
        .map((r) =>
          `${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2].padEnd(w[2])}  ${r[3]}`.trimEnd(),
        )
        .join('\n') +
      `\n\nwritten ${file}\n`,
  );
  process.exitCode = wrong || topicWrong ? 1 : 0;
} catch (e) {
  say(`failed: ${e?.stack ?? e}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
