#!/usr/bin/env node
/**
 * The outbox relay's Kafka half alone: sends N KPI-event-sized messages to a fresh 12-partition
 * topic the way the relay does (idempotent producer, 2,000 events per send, requests of
 * MAX_REQUEST_BYTES unless given), and prints the CPU it took per event. The whole-country
 * bench spends more CPU here than anywhere else.
 *
 *   npm run build && node scripts/infra.mjs up test
 *   node bench/profile/relay-produce.mjs [events=200000] [bytes=1000] [requestBytes]
 *   node --cpu-prof --cpu-prof-dir=.data/prof/relay bench/profile/relay-produce.mjs
 *   node scripts/infra.mjs down test
 *
 * Uses KAFKA_BROKERS, or the test profile's broker (127.0.0.1:19092).
 */
import { Kafka, logLevel } from 'kafkajs';
import { MAX_REQUEST_BYTES } from '../../dist/libs/contract/src/index.js';
import { createIdempotentProducer, sendInChunks } from '../../dist/libs/kafka/src/index.js';

const events = Number(process.argv[2] ?? 200_000);
const bytes = Number(process.argv[3] ?? 1_000);
const requestBytes = Number(process.argv[4] ?? MAX_REQUEST_BYTES);
const kafka = new Kafka({
  clientId: 'relay-produce',
  brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(','),
  logLevel: logLevel.WARN,
});
const topic = `relay-produce-${Date.now().toString(36)}`;
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic, numPartitions: 12 }], waitForLeaders: true });

// KPI events as the relay reads them from the change log: a key and a JSON text of ~`bytes`.
const pad = 'x'.repeat(Math.max(0, bytes - 330));
const messages = Array.from({ length: events }, (_, i) => {
  const area = String(10_000 + (i % 10_051)).padStart(5, '0');
  const period = `2024-${String((i % 12) + 1).padStart(2, '0')}`;
  const key = `MBB_SUB_P100|${area}|${period}`;
  return {
    key,
    value: JSON.stringify({
      schema: 'lgsp.kpi.v1',
      eventId: crypto.randomUUID(),
      kpi: 'MBB_SUB_P100',
      area,
      period,
      value: i / 7,
      numerator: i,
      denominator: 7,
      status: 'provisional',
      completeness: { expected: ['mobifone', 'viettel', 'vnpt'], reported: ['viettel'] },
      revision: 1,
      computedAt: new Date().toISOString(),
      inputs: [{ source: 'viettel', feedId: `viettel-${area}-${period}-0-${pad}` }],
    }),
  };
});
const payloadBytes = messages.reduce((n, m) => n + Buffer.byteLength(m.value), 0);

const producer = createIdempotentProducer(kafka);
await producer.connect();
await sendInChunks(producer, [{ topic, messages: messages.slice(0, 2_000) }], requestBytes);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
/** Events per send, as the relay reads them (relay-loop.ts). */
const BATCH = 2_000;
for (let i = 0; i < events; i += BATCH) {
  await sendInChunks(producer, [{ topic, messages: messages.slice(i, i + BATCH) }], requestBytes);
  if ((i / BATCH) % 10 === 0) process.stderr.write(`\r[relay-produce] ${i + BATCH}/${events}`);
}
const cpu = process.cpuUsage(cpu0);
const ms = performance.now() - t0;
process.stderr.write('\n');
const cpuMs = (cpu.user + cpu.system) / 1_000;
console.log(
  `${events.toLocaleString('en-US')} events of ${Math.round(payloadBytes / events)} bytes: ` +
    `${Math.round(events / (ms / 1_000)).toLocaleString('en-US')} events/s, ` +
    `${((cpuMs * 1_000) / events).toFixed(1)} µs CPU per event (${(cpuMs / 1_000).toFixed(1)} s), ` +
    `RSS ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB`,
);
await producer.disconnect();
await admin.deleteTopics({ topics: [topic] });
await admin.disconnect();
