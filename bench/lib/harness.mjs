/**
 * The benchmark's harness, shared by its phases: the command line, progress lines, the
 * generated workload, and the infrastructure. Importing it starts Kafka and PostgreSQL (unless
 * KAFKA_BROKERS / DATABASE_URL are given) and creates the run's database: it is the bench's
 * setup, run once; `cleanup()` stops what it started.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { backfill } from '../workload.mjs';
import { launcher, ROOT, startKafka, startPostgres, stopKafka } from '../../scripts/infra.mjs';

export const cat = await import(join(ROOT, 'dist/libs/catalogue/src/index.js'));
// The reference arithmetic the engine is checked against (not part of any service).
export const reference = await import(join(ROOT, 'dist/libs/aggregation/src/reference.js'));
export const contract = await import(join(ROOT, 'dist/libs/contract/src/index.js'));
export const args = Object.fromEntries(
  process.argv
    .slice(2)
    .map((a, i, all) => (a.startsWith('--') ? [a.slice(2), all[i + 1]] : []))
    .filter((x) => x.length),
);
export const PROVINCES = Number(args.provinces ?? 63);
export const AGGREGATORS = Number(args.aggregators ?? 1);
export const TIMEOUT_S = Number(args.timeout ?? 480);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** One line, rewritten in place on a terminal; into a log file, a line every 5 s at most. */
let lastLogged = 0;
export const progress = (m) => {
  if (process.stderr.isTTY) return void process.stderr.write(`\r\x1b[K[bench] ${m}`);
  if (Date.now() - lastLogged < 5_000) return;
  lastLogged = Date.now();
  process.stderr.write(`[bench] ${m}\n`);
};
export const say = (m) =>
  process.stderr.write(process.stderr.isTTY ? `\r\x1b[K[bench] ${m}\n` : `[bench] ${m}\n`);
export const fmt = (n) => Math.round(n).toLocaleString('en-US');

// ---------- data ----------
export const units = cat.AdminUnits.load(join(ROOT, 'data/admin-units'));
export const run = randomUUID().slice(0, 8);
export const { provinces, communesOf, communeCount, buildFeeds } = backfill(units, PROVINCES, run);
/** Feeds of the steady phase (c), 2 per second. */
export const FRESH_FEEDS = 100;

// ---------- infrastructure ----------
export const started = { kafka: false, pg: undefined, services: [], stopping: false };
export async function cleanup() {
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

export const kafkaBrokers =
  process.env.KAFKA_BROKERS ?? ((started.kafka = true), (await startKafka('test')).brokers);
export const baseUrl = process.env.DATABASE_URL ?? (started.pg = await startPostgres('test')).url;
const dbName = `bench_${run}`;
{
  const c = new pg.Client(baseUrl);
  await c.connect();
  await c.query(`CREATE DATABASE ${dbName}`);
  await c.end();
}
export const dbUrl = Object.assign(new URL(baseUrl), { pathname: `/${dbName}` }).toString();
export const kafka = new Kafka({
  clientId: 'bench',
  brokers: kafkaBrokers.split(','),
  logLevel: logLevel.ERROR,
  // Nothing once the bench is stopping: its clients retry a broker that is going away.
  logCreator:
    () =>
    ({ namespace, log }) =>
      started.stopping || console.error(`[kafkajs] ${namespace}: ${log.message}`),
});
export const logDir = join(ROOT, '.data', 'test', 'logs');
mkdirSync(logDir, { recursive: true });

/**
 * `--profile`: every service writes V8 CPU profiles into .data/prof/<service> when it stops,
 * one per thread (Node names them CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile).
 */
export const PROFILE = 'profile' in args || process.argv.includes('--profile');
export async function startService(name, port, instance = '', extra = {}) {
  const extraFlags = [
    ...(PROFILE
      ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, '.data', 'prof', `${name}${instance}`)}`]
      : []),
    // After the usual flags, so they win.
    ...(args[`${name}-node`] ? args[`${name}-node`].split(' ') : []),
  ];
  const { spawnService } = await launcher();
  const child = spawnService(name, {
    root: ROOT,
    extraFlags,
    env: {
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
export function cpuSeconds(pid, children = false) {
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
export function cpuNow() {
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
export function machineSeconds() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
    return { idle: Number(f[4]) / 100, steal: Number(f[8] ?? 0) / 100 };
  } catch {
    return {};
  }
}
/** A memory figure of /proc/<pid>/status in MB: `VmHWM` (peak RSS) or `VmRSS` (now). */
export function statusMb(pid, field) {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(field));
    return Math.round(Number(line.split(/\s+/)[1]) / 1024);
  } catch {
    return null;
  }
}
export const peakRssMb = (pid) => statusMb(pid, 'VmHWM');

/** Each partition's end offset, per topic: `{ [topic]: [{ partition, offset }] }`. */
export async function topicEnds(topics) {
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
export const startOf = (offsets, partition) =>
  offsets.find((p) => p.partition === partition)?.offset ?? 0;

/**
 * Starts a new consumer group where this run's records begin on `topic`: a broker given in
 * KAFKA_BROKERS keeps earlier runs' records, which the limit (b) and the verification would
 * otherwise read (and (b) parse) as well.
 */
export async function fromRunStart(groupId, topic, starts) {
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
export async function watchLatencies(groupId) {
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
