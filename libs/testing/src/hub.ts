/** The built services as real processes: a hub of its own per e2e file. */
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type ServiceName, spawnService } from '@app/service/src/launcher.js';
import { eventually, requireEnv, uniqueSuffix } from './eventually.js';
import { freshDatabase } from './infra.js';

export type { ServiceName };

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

  /** Where a service's stdout and stderr go. */
  logFile(service: ServiceName): string {
    return join(this.logDir, `${service}-${this.ports.api}.log`);
  }

  url(service: ServiceName, path: string): string {
    return `http://127.0.0.1:${this.ports[service]}${path}`;
  }

  async start(service: ServiceName): Promise<void> {
    const log = createWriteStream(this.logFile(service), {
      flags: 'a',
    });
    const child = spawnService(service, {
      env: {
        ...process.env,
        ...this.env,
        ...this.serviceEnv[service],
        API_PORT: String(this.ports.api),
        INGEST_PORT: String(this.ports.ingest),
        AGGREGATOR_PORT: String(this.ports.aggregator),
        RELAY_PORT: String(this.ports.relay),
      },
    });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
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
