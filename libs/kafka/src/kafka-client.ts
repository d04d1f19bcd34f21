import { Logger } from '@nestjs/common';
import kafkajs, {
  type Admin,
  type ICustomPartitioner,
  Kafka,
  type LogEntry,
  logLevel,
  type Message,
  Partitioners,
  type Producer,
  type SASLOptions,
} from 'kafkajs';
import { HUB_CONFIG, type HubConfig } from '@app/config';
import { readFileSync } from 'node:fs';
import { registerCodecs } from './codecs.js';
import { keyPartition } from './murmur2.js';
import type { TopicSpec } from '@app/contract';

/** `configSource` of a config set on the topic itself (Kafka's DescribeConfigs). */
const DYNAMIC_TOPIC_CONFIG = 1;

/** A kafkajs client whose log lines go through Nest's logger. */
export function createKafka(
  clientId: string,
  brokers: string,
  sasl?: { mechanism: 'scram-sha-256' | 'scram-sha-512'; username: string; password: string },
  tls?: { ca: string },
): Kafka {
  const logger = new Logger('kafkajs');
  registerCodecs();
  return new Kafka({
    clientId,
    brokers: brokers.split(','),
    ...(sasl ? { sasl: sasl as SASLOptions } : {}),
    ...(tls ? { ssl: { ca: [tls.ca] } } : {}),
    logLevel: logLevel.WARN,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5_000 },
    // kafkajs retries what it logs at ERROR; what finally fails reaches our code as an error.
    logCreator:
      () =>
      ({ namespace, level, log }: LogEntry) => {
        const {
          message,
          timestamp: _t,
          logger: _l,
          ...fields
        } = log as LogEntry['log'] & {
          timestamp?: string;
          logger?: string;
        };
        const entry = { message: `${namespace}: ${message}`, ...fields };
        // A rebalance makes every heartbeat in flight answer REBALANCE_IN_PROGRESS, one warning
        // each; the rejoin that follows is logged once by the runner.
        const routine =
          String(message).startsWith('Response Heartbeat') &&
          String((fields as { error?: unknown }).error).startsWith('The group is rebalancing');
        if (level <= logLevel.WARN && !routine) logger.warn(entry);
        else logger.log(entry);
      },
  });
}

/** Where a record goes by its key, for a topic of `partitions` partitions. */
export type KeyPlacement = (key: string, partitions: number) => number;

/**
 * An idempotent producer: retries never duplicate or reorder records within a partition.
 * Records go where kafkajs' default partitioner puts them (murmur2 of the key, computed by
 * `keyPartition`), except on the topics of `placements`, which place keyed records themselves.
 */
export function createIdempotentProducer(
  kafka: Kafka,
  placements: Readonly<Record<string, KeyPlacement>> = {},
): Producer {
  const createPartitioner: ICustomPartitioner = () => {
    const unkeyed = Partitioners.DefaultPartitioner();
    return (args) => {
      const { key, partition } = args.message;
      if (key == null) return unkeyed(args);
      const place = placements[args.topic];
      const partitions = args.partitionMetadata.length;
      if (place) return place(key.toString(), partitions);
      return partition ?? keyPartition(key, partitions);
    };
  };
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    // The idempotent producer must not give up on a record (kafkajs warns otherwise); a broker
    // outage shows as an unhealthy service, not as a lost event.
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5_000 },
    createPartitioner,
  });
}

/**
 * Creates missing topics (idempotent). Subscribing to a missing topic throws under KRaft,
 * so every service calls this before its consumers start.
 */
export async function ensureTopics(kafka: Kafka, specs: readonly TopicSpec[]): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => ({
          topic: s.topic,
          numPartitions: s.numPartitions,
          replicationFactor: 1,
          ...(s.configEntries ? { configEntries: s.configEntries } : {}),
        })),
      });
      await untilServed(
        admin,
        missing.map((s) => s.topic),
      );
    }
    // Topics made by an older version, or by someone else, get the configs the hub relies on.
    // AlterConfigs replaces a topic's whole override set: keep the overrides already there.
    const existingSpecs = specs.filter((s) => existing.has(s.topic) && s.configEntries?.length);
    if (existingSpecs.length > 0) {
      const TOPIC = kafkajs.ConfigResourceTypes.TOPIC;
      const current = await admin.describeConfigs({
        includeSynonyms: false,
        resources: existingSpecs.map((s) => ({ type: TOPIC, name: s.topic })),
      });
      const changes = existingSpecs.flatMap((spec) => {
        const entries =
          current.resources.find((r) => r.resourceName === spec.topic)?.configEntries ?? [];
        const overrides = new Map(
          entries
            .filter((e) => Number(e.configSource) === DYNAMIC_TOPIC_CONFIG)
            .map((e) => [e.configName, e.configValue]),
        );
        const wanted = spec.configEntries!.filter((e) => overrides.get(e.name) !== e.value);
        if (wanted.length === 0) return [];
        for (const e of wanted) overrides.set(e.name, e.value);
        return [
          {
            type: TOPIC,
            name: spec.topic,
            configEntries: [...overrides].map(([name, value]) => ({ name, value })),
          },
        ];
      });
      if (changes.length > 0) await admin.alterConfigs({ validateOnly: false, resources: changes });
    }
    return missing.map((s) => s.topic);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Waits until the broker serves metadata with a leader for every partition of new topics:
 * subscribing in the moment after creation can fail with "does not host this topic-partition".
 */
async function untilServed(admin: Admin, topics: string[], timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics });
      if (meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)))
        return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
    if (Date.now() > deadline)
      throw new Error(`topics ${topics.join(', ')} have no leader after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Whether the brokers answer: one metadata request, bounded in time. */
export async function brokerReachable(
  kafka: Kafka,
  timeoutMs = 3_000,
): Promise<{ ok: boolean; detail?: string }> {
  const admin = kafka.admin({ retry: { retries: 0 } });
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(
      () => reject(new Error(`no answer from the brokers within ${timeoutMs} ms`)),
      timeoutMs,
    ).unref(),
  );
  try {
    await Promise.race([admin.connect(), timeout]);
    const cluster = await Promise.race([admin.describeCluster(), timeout]);
    return { ok: true, detail: `${cluster.brokers.length} broker(s)` };
  } catch (e) {
    return { ok: false, detail: (e as Error).message };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export const KAFKA = Symbol('KAFKA');

/** A kafkajs client as a Nest provider (`@Inject(KAFKA)`), named after the service. */
export function kafkaProvider(service: string) {
  return {
    provide: KAFKA,
    inject: [HUB_CONFIG],
    useFactory: (c: HubConfig): Kafka =>
      createKafka(
        `${c.KAFKA_CLIENT_ID}-${service}`,
        c.KAFKA_BROKERS,
        c.KAFKA_SASL_MECHANISM && c.KAFKA_SASL_USERNAME
          ? {
              mechanism: c.KAFKA_SASL_MECHANISM,
              username: c.KAFKA_SASL_USERNAME,
              password: c.KAFKA_SASL_PASSWORD ?? '',
            }
          : undefined,
        c.KAFKA_SSL_CA_FILE ? { ca: readFileSync(c.KAFKA_SSL_CA_FILE, 'utf8') } : undefined,
      ),
  };
}

/**
 * Sends records in requests of at most `maxBytes` (by value size), in order: the broker refuses
 * a record batch over the topic's `max.message.bytes`, and one request holds one batch per
 * partition. A single record larger than `maxBytes` goes alone.
 */
export async function sendInChunks(
  producer: Producer,
  topicMessages: readonly { topic: string; messages: readonly Message[] }[],
  maxBytes: number,
): Promise<void> {
  let chunk: { topic: string; messages: Message[] }[] = [];
  let bytes = 0;
  const flush = async (): Promise<void> => {
    if (chunk.length) await producer.sendBatch({ topicMessages: chunk, acks: -1 });
    chunk = [];
    bytes = 0;
  };
  for (const { topic, messages } of topicMessages)
    for (const m of messages) {
      const size = m.value ? Buffer.byteLength(m.value) : 0;
      if (bytes > 0 && bytes + size > maxBytes) await flush();
      const last = chunk.at(-1);
      if (last?.topic === topic) last.messages.push(m);
      else chunk.push({ topic, messages: [m] });
      bytes += size;
    }
  await flush();
}
