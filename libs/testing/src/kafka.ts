/** Reading and writing the hub's topics in tests. */
import { type Consumer, type Kafka, type KafkaMessage, Partitioners, type Producer } from 'kafkajs';
import { randomUUID } from 'node:crypto';

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
