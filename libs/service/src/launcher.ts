import { type ChildProcess, spawn, type StdioOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The one way a service is started as a process: `npm start`, the benchmark and the e2e tests
 * go through here, with the Node flags and environment of `apps/node-flags.json` (the
 * aggregator's heap and malloc settings, ADR 0010; the relay's, ADR 0011). The compose file
 * repeats them, and a test holds it to this file.
 */
export const SERVICE_NAMES = ['ingest', 'aggregator', 'relay', 'api'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface NodeFlags {
  readonly flags: readonly string[];
  /** Set before the caller's environment, which may override them. */
  readonly env: Readonly<Record<string, string>>;
}

const tables = new Map<string, Record<string, unknown>>();

/** A service's Node flags and environment, as `apps/node-flags.json` gives them. */
export function nodeFlags(service: ServiceName, root = process.cwd()): NodeFlags {
  let table = tables.get(root);
  if (!table) {
    table = JSON.parse(readFileSync(join(root, 'apps', 'node-flags.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    tables.set(root, table);
  }
  const env = (table['env'] as Record<string, Record<string, string>> | undefined)?.[service];
  return { flags: (table[service] as string[] | undefined) ?? [], env: env ?? {} };
}

export interface LaunchOptions {
  /** The project root (where dist/ and apps/ are). */
  readonly root?: string;
  /** The service's environment: the caller's settings, over node-flags.json's. */
  readonly env: Record<string, string | undefined>;
  /** More Node flags (profiling, a benchmark's variant), after the usual ones so they win. */
  readonly extraFlags?: readonly string[];
  readonly stdio?: StdioOptions;
}

/** Starts the built service (`dist/apps/<service>/src/main.js`). */
export function spawnService(service: ServiceName, options: LaunchOptions): ChildProcess {
  const root = options.root ?? process.cwd();
  const { flags, env } = nodeFlags(service, root);
  return spawn(
    process.execPath,
    [
      ...flags,
      ...(options.extraFlags ?? []),
      join(root, 'dist', 'apps', service, 'src', 'main.js'),
    ],
    {
      cwd: root,
      env: { ...env, ...options.env },
      stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'],
    },
  );
}
