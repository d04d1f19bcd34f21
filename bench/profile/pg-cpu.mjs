#!/usr/bin/env node
/**
 * Samples PostgreSQL's processes while a bench runs and prints the CPU seconds of each kind
 * of backend (the aggregator's and the relay's sessions by application name, the background
 * writer, autovacuum, ...) and the statements seen running most often. CPU comes from
 * /proc/<pid>/stat, so run it on the database's machine, and start it once PostgreSQL is up:
 *
 *   npm run bench &  sleep 20;  node bench/profile/pg-cpu.mjs 120
 *
 * The argument is how many seconds to sample (every 250 ms). Uses DATABASE_URL's server
 * (its `postgres` database), or the test profile's PostgreSQL (127.0.0.1:54339). A backend
 * that ends between two samples loses its last quarter second.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';

const seconds = Number(process.argv[2] ?? 120);
const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres:lgsp@127.0.0.1:54339/lgsp');
url.pathname = '/postgres';
const TICKS = 100; // clock ticks per second (getconf CLK_TCK)

const cpuOf = (pid) => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / TICKS; // utime + stime
  } catch {
    return undefined;
  }
};

const client = new pg.Client(url.toString());
await client.connect();
const backends = new Map(); // pid -> { kind, cpu }
const statements = new Map();
const until = Date.now() + seconds * 1000;
while (Date.now() < until) {
  const { rows } = await client.query(
    `SELECT pid, backend_type, application_name, state, left(query, 48) AS query
       FROM pg_stat_activity WHERE pid <> pg_backend_pid()`,
  );
  for (const r of rows) {
    const cpu = cpuOf(r.pid);
    if (cpu === undefined) continue;
    const kind =
      r.backend_type === 'client backend'
        ? `session ${r.application_name || '(unnamed)'}`
        : r.backend_type;
    backends.set(r.pid, { kind, cpu: Math.max(cpu, backends.get(r.pid)?.cpu ?? 0) });
    if (r.state === 'active' && r.query)
      statements.set(r.query, (statements.get(r.query) ?? 0) + 1);
  }
  await new Promise((resolve) => setTimeout(resolve, 250));
}
await client.end();

const byKind = new Map();
for (const b of backends.values()) byKind.set(b.kind, (byKind.get(b.kind) ?? 0) + b.cpu);
console.log('CPU seconds by backend (since each started):');
for (const [kind, cpu] of [...byKind].sort((a, b) => b[1] - a[1]))
  console.log(`  ${cpu.toFixed(1).padStart(6)}  ${kind}`);
console.log('statements seen running (samples):');
for (const [q, n] of [...statements].sort((a, b) => b[1] - a[1]).slice(0, 12))
  console.log(`  ${String(n).padStart(6)}  ${q.replace(/\s+/g, ' ')}`);
