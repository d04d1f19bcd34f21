import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The Kafka lib folder `node scripts/infra.mjs fetch` filled (the broker's own jars). */
export function kafkaJars(): string {
  const cache = join(process.cwd(), '.cache');
  const dir = readdirSync(cache).find((d) => d.startsWith('kafka-'));
  if (!dir) throw new Error('no Kafka jars in .cache/: run `node scripts/infra.mjs fetch`');
  return join(cache, dir, 'lib', '*');
}

/**
 * Runs a Java program with Apache Kafka's jars on the classpath (a main class, or a
 * single-file source such as test/java/KafkaFeeds.java), `input` on its stdin. Resolves with
 * its stdout and exit code; real clients, as operators and warehouses run them.
 */
export function runJava(
  args: string[],
  input = '',
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('java', ['-cp', kafkaJars(), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? -1, out, err }));
    child.stdin.end(input);
  });
}

/** `runJava` that must succeed: resolves with its stdout. */
export async function java(args: string[], input = ''): Promise<string> {
  const r = await runJava(args, input);
  if (r.code !== 0) throw new Error(`java ${args[0]} exited ${r.code}: ${r.out}${r.err}`);
  return r.out;
}
