/**
 * The outbox relay's thread: its own database session and Kafka producer, so that encoding
 * and sending events never holds up the aggregator's consumer and KPI computation. Talks to
 * the main thread by messages: `wake`, `written` (committed rows, handed over) and `stop` in,
 * `status` out.
 */
import 'reflect-metadata';
// Single files, not the libs' indexes: a thread's heap holds every module it loads, and V8
// lets a heap grow to about four times what is live before a major collection. The indexes
// would bring TypeORM, the feed DTOs and the metrics: 23 MB of live heap instead of 14.
import { loadConfig } from '@app/config/src/hub-config.js';
import { createIdempotentProducer, kafkaProvider } from '@app/kafka/src/kafka-client.js';
import { PinoNestLogger } from '@app/service/src/pino-logger.js';
import { Logger } from '@nestjs/common';
import pg from 'pg';
import { getHeapStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import { RelayLoop, type RelaySession } from './relay-loop.js';

export type RelayMessage =
  | { type: 'wake' }
  | { type: 'stop' }
  /** Rows a flush committed, as its COPYs sent them (their memory transferred). */
  | { type: 'written'; rows: { first: number; last: number; data: Uint8Array }[] };
export type RelayReport =
  | {
      type: 'status';
      status: RelayLoop['status'];
      events: number;
      backlog: number;
      /** This thread's V8 heap (its own, not the main thread's), in MB. */
      heapMb: { used: number; total: number };
    }
  | { type: 'stopped' };

const port = parentPort!;
const config = loadConfig();
Logger.overrideLogger(
  new PinoNestLogger('aggregator', config.LOG_LEVEL as 'error' | 'warn' | 'log' | 'debug'),
);
const kafka = kafkaProvider('aggregator-relay').useFactory(config);
const producer = createIdempotentProducer(kafka);
await producer.connect();

const connect = async (): Promise<RelaySession> => {
  const client = new pg.Client({
    connectionString: config.DATABASE_URL,
    application_name: 'lgsp-hub-relay',
  });
  await client.connect();
  return {
    query: async (sql, params) => (await client.query(sql, params)).rows,
    // pg reads a query's `binary` flag, which its type definitions leave out.
    client: client as unknown as RelaySession['client'],
    close: () => client.end(),
  };
};
const mb = (n: number): number => Math.round(n / 2 ** 20);
const relay = new RelayLoop(connect, producer, config.OUTBOX_POLL_MS, (events, backlog) => {
  const h = getHeapStatistics();
  port.postMessage({
    type: 'status',
    status: relay.status,
    events,
    backlog,
    heapMb: { used: mb(h.used_heap_size), total: mb(h.total_heap_size) },
  } satisfies RelayReport);
});
port.on('message', (m: RelayMessage) => {
  if (m.type === 'wake') relay.wake();
  else if (m.type === 'written')
    relay.handOver(
      m.rows.map((r) => ({
        first: r.first,
        last: r.last,
        data: Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength),
      })),
    );
  else
    void relay
      .stop()
      .then(() => producer.disconnect())
      .finally(() => port.postMessage({ type: 'stopped' } satisfies RelayReport));
});
relay.start();
