/**
 * Helpers for the integration and e2e tiers: real Kafka, real Postgres, the built services as
 * real processes. No mocks, no sleeps: `eventually()` polls with a deadline.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Consumer,
  Kafka,
  type KafkaMessage,
  logLevel,
  Partitioners,
  type Producer,
} from 'kafkajs';
import pg from 'pg';

/** The Node flags each service runs with, and its environment, as deployed (apps/node-flags.json). */
const NODE_FLAGS: Record<string, string[] | undefined> & {
  env?: Record<string, Record<string, string> | undefined>;
} = JSON.parse(readFileSync(join('apps', 'node-flags.json'), 'utf8'));

export async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  { timeoutMs = 30_000, intervalMs = 100, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function requireEnv(name: 'KAFKA_BROKERS' | 'DATABASE_URL'): string {
  const v = process.env[name];
  if (!v)
    throw new Error(
      `${name} is not set: run the tests with npm test (test/global-setup starts Kafka and Postgres)`,
    );
  return v;
}

/** Creates an empty database on the test server and returns its URL. */
export async function freshDatabase(prefix: string): Promise<string> {
  const base = new URL(requireEnv('DATABASE_URL'));
  const name = `${prefix}_${Date.now().toString(36)}_${randomUUID().slice(0, 6)}`.toLowerCase();
  const admin = new pg.Client({ connectionString: base.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  base.pathname = `/${name}`;
  return base.toString();
}

export function kafkaClient(): Kafka {
  return new Kafka({
    clientId: `test-${randomUUID().slice(0, 8)}`,
    brokers: requireEnv('KAFKA_BROKERS').split(','),
    logLevel: logLevel.ERROR,
  });
}

export interface Received {
  readonly key: string;
  readonly value: Buffer | null;
  readonly headers: Record<string, string>;
  readonly partition: number;
  readonly offset: string;
  json<T = Record<string, unknown>>(): T;
}

/**
 * Reads a topic with its own group and keeps every record written after `start()` (or, with
 * `from: 'beginning'`, every record). The e2e files share the hub's topics: a file's checks
 * must not see another file's events.
 */
export class TopicWatcher {
  readonly records: Received[] = [];
  private consumer?: Consumer;

  constructor(
    private readonly kafka: Kafka,
    readonly topic: string,
  ) {}

  async start(from: 'beginning' | 'now' = 'now'): Promise<this> {
    let ends: { partition: number; offset: string }[] = [];
    if (from === 'now') {
      const admin = this.kafka.admin();
      await admin.connect();
      try {
        ends = (await admin.fetchTopicOffsets(this.topic)).map((o) => ({
          partition: o.partition,
          offset: o.high,
        }));
      } finally {
        await admin.disconnect();
      }
    }
    this.consumer = this.kafka.consumer({
      groupId: `watch-${randomUUID()}`,
      sessionTimeout: 10_000,
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ message, partition }) =>
        void this.records.push(toReceived(message, partition)),
    });
    for (const e of ends) this.consumer.seek({ topic: this.topic, ...e });
    return this;
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }

  byKey(key: string): Received[] {
    return this.records.filter((r) => r.key === key);
  }

  /** Every record, grouped by key in arrival order: one pass, for checks over many keys. */
  groupedByKey(): Map<string, Received[]> {
    const out = new Map<string, Received[]>();
    for (const r of this.records) {
      const list = out.get(r.key);
      if (list) list.push(r);
      else out.set(r.key, [r]);
    }
    return out;
  }

  /** The record with the highest `revision` per key: what a compacting reader keeps. */
  latestByKey<T extends { revision: number }>(): Map<string, T> {
    const out = new Map<string, T>();
    for (const r of this.records) {
      const v = r.json<T>();
      const prev = out.get(r.key);
      if (!prev || prev.revision < v.revision) out.set(r.key, v);
    }
    return out;
  }
}

function toReceived(m: KafkaMessage, partition: number): Received {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {}))
    if (v !== undefined) headers[k] = Array.isArray(v) ? String(v[0]) : String(v);
  return {
    key: m.key?.toString('utf8') ?? '',
    value: m.value,
    headers,
    partition,
    offset: m.offset,
    json: <T>() => JSON.parse(m.value?.toString('utf8') ?? 'null') as T,
  };
}

export class FeedSender {
  private producer?: Producer;
  constructor(private readonly kafka: Kafka) {}

  async start(): Promise<this> {
    this.producer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await this.producer.connect();
    return this;
  }

  /** Sends feeds (objects are serialised; strings and buffers go as they are). */
  async send(
    feeds: readonly (object | string | Buffer)[],
    key?: (f: object | string | Buffer) => string | null,
    topic = 'lgsp.feeds.v1',
  ): Promise<void> {
    await this.producer!.send({
      topic,
      acks: -1,
      messages: feeds.map((f) => ({
        key: key
          ? key(f)
          : typeof f === 'object' && !Buffer.isBuffer(f)
            ? String((f as { source?: string }).source)
            : 'unknown',
        value: typeof f === 'string' || Buffer.isBuffer(f) ? f : JSON.stringify(f),
      })),
    });
  }

  async stop(): Promise<void> {
    await this.producer?.disconnect();
  }
}

export type ServiceName = 'ingest' | 'aggregator' | 'relay' | 'api';

/** The built services (dist/) as child processes, as `npm start` runs them. */
export class HubProcesses {
  private readonly procs = new Map<ServiceName, ChildProcess>();
  readonly ports: Record<ServiceName, number>;

  constructor(
    private readonly env: Record<string, string>,
    basePort: number,
    private readonly logDir = join(process.cwd(), '.data', 'test', 'logs'),
    /** Settings of one service only (its own Kafka principal on a secured broker). */
    private readonly serviceEnv: Partial<Record<ServiceName, Record<string, string>>> = {},
  ) {
    this.ports = {
      api: basePort,
      ingest: basePort + 1,
      aggregator: basePort + 2,
      relay: basePort + 3,
    };
    mkdirSync(this.logDir, { recursive: true });
  }

  /**
   * More instances of the same hub (same database, same consumer groups) on ports of their own:
   * start an aggregator on it to scale out.
   */
  sibling(basePort: number): HubProcesses {
    return new HubProcesses(this.env, basePort, this.logDir, this.serviceEnv);
  }

  url(service: ServiceName, path: string): string {
    return `http://127.0.0.1:${this.ports[service]}${path}`;
  }

  async start(service: ServiceName): Promise<void> {
    const log = createWriteStream(join(this.logDir, `${service}-${this.ports.api}.log`), {
      flags: 'a',
    });
    const flags = NODE_FLAGS[service] ?? [];
    const child = spawn(
      process.execPath,
      [...flags, join('dist', 'apps', service, 'src', 'main.js')],
      {
        env: {
          ...NODE_FLAGS.env?.[service],
          ...process.env,
          ...this.env,
          ...this.serviceEnv[service],
          API_PORT: String(this.ports.api),
          INGEST_PORT: String(this.ports.ingest),
          AGGREGATOR_PORT: String(this.ports.aggregator),
          RELAY_PORT: String(this.ports.relay),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    this.procs.set(service, child);
    await eventually(
      async () => {
        if (child.exitCode !== null)
          throw new Error(`${service} exited with ${child.exitCode}; see ${this.logDir}`);
        const r = await fetch(this.url(service, '/health')).catch(() => undefined);
        return r?.ok ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: `${service} to be healthy` },
    ).catch((e: Error) => {
      throw new Error(`${e.message} (log: ${this.logDir})`);
    });
  }

  async startAll(): Promise<void> {
    await this.start('aggregator');
    await this.start('relay');
    await this.start('ingest');
    await this.start('api');
  }

  /** Kills a service the hard way: no shutdown hooks, nothing flushed, offsets uncommitted. */
  async kill(service: ServiceName, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.procs.get(service);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
    this.procs.delete(service);
  }

  async stopAll(): Promise<void> {
    for (const s of ['ingest', 'api', 'aggregator', 'relay'] as const)
      await this.kill(s, 'SIGTERM');
  }

  async getJson<T>(service: ServiceName, path: string): Promise<T> {
    const r = await fetch(this.url(service, path));
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  }
}

export const uniqueSuffix = (): string => `${Date.now().toString(36)}${randomUUID().slice(0, 4)}`;

/**
 * A hub of its own for one e2e file: a fresh database, consumer groups of its own and the
 * built services (all three unless `services` says which), on `basePort` (API), +1 (ingest),
 * +2 (aggregator).
 */
export async function startTestHub(
  name: string,
  basePort: number,
  env: Record<string, string> = {},
  services?: readonly ServiceName[],
  serviceEnv: Partial<Record<ServiceName, Record<string, string>>> = {},
): Promise<{ hub: HubProcesses; databaseUrl: string; run: string }> {
  const run = uniqueSuffix();
  const databaseUrl = await freshDatabase(name);
  const hub = new HubProcesses(
    {
      DATABASE_URL: databaseUrl,
      KAFKA_BROKERS: requireEnv('KAFKA_BROKERS'),
      INGEST_GROUP: `ingest-${name}-${run}`,
      AGGREGATOR_GROUP: `aggregator-${name}-${run}`,
      LOG_LEVEL: 'warn',
      // each file's hub sees only what is sent after it started: files stay independent
      CONSUMER_START: 'latest',
      ...env,
    },
    basePort,
    undefined,
    serviceEnv,
  );
  if (services) for (const s of services) await hub.start(s);
  else await hub.startAll();
  return { hub, databaseUrl, run };
}

/** A JSON call with a bearer token: the admin API of a test hub, with its status and body. */
export async function callJson<T = Record<string, unknown>>(
  url: string,
  method: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const r = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, body: (await r.json()) as T };
}
export * from './workload.js';
export * from './java.js';
