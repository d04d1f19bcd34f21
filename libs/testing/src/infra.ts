/** The test tiers' Kafka and PostgreSQL, as test/global-setup started them. */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { requireEnv } from './eventually.js';

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
