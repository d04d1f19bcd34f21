import { randomUUID } from 'node:crypto';

/** Polls `probe` until it gives a value (not undefined or false), or the deadline passes. */
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

/** A setting test/global-setup gives every test process. */
export function requireEnv(name: 'KAFKA_BROKERS' | 'DATABASE_URL'): string {
  const v = process.env[name];
  if (!v)
    throw new Error(
      `${name} is not set: run the tests with npm test (test/global-setup starts Kafka and Postgres)`,
    );
  return v;
}

export const uniqueSuffix = (): string => `${Date.now().toString(36)}${randomUUID().slice(0, 4)}`;
