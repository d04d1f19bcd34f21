import { HubError } from '@app/contract';
import { eventually, kafkaClient, uniqueSuffix } from '@app/testing';
import type { Kafka } from 'kafkajs';
import {
  BatchConsumer,
  type BatchConsumerOptions,
  type ConsumedMessage,
} from './batch-consumer.js';
import { ensureTopics } from './kafka-client.js';

/**
 * Poison isolation against a real broker: whatever a record makes the handler throw, that
 * record is set aside and every other one handled; only an infrastructure that does not
 * answer stops the consumer.
 */
let kafka: Kafka;
const consumers: BatchConsumer[] = [];

beforeAll(() => {
  kafka = kafkaClient();
});
afterAll(async () => {
  await Promise.all(consumers.map((c) => c.stop()));
});

async function topicWith(values: string[]): Promise<string> {
  const topic = `lgsp.test-isolation-${uniqueSuffix()}`;
  await ensureTopics(kafka, [{ topic, numPartitions: 1 }]);
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: values.map((value) => ({ value })) });
  await producer.disconnect();
  return topic;
}

function run(
  topic: string,
  options: Partial<BatchConsumerOptions> & Pick<BatchConsumerOptions, 'handler'>,
) {
  const aside: { value: string; code: string; message: string }[] = [];
  const fatal: unknown[] = [];
  const consumer = new BatchConsumer(kafka, {
    groupId: `isolation-${uniqueSuffix()}`,
    topics: [topic],
    retries: 2,
    quarantine: (m: ConsumedMessage, e: HubError) => {
      aside.push({ value: m.value!.toString(), code: e.code, message: e.message });
      return Promise.resolve();
    },
    probe: () => Promise.resolve(),
    onFatal: (e) => void fatal.push(e),
    ...options,
  });
  consumers.push(consumer);
  return { consumer, aside, fatal, started: consumer.start() };
}

const values = Array.from({ length: 20 }, (_, i) => String(i));

describe('BatchConsumer', () => {
  it('sets aside the records a bug throws on and handles every other one', async () => {
    const topic = await topicWith(values);
    const handled = new Set<string>();
    const { consumer, aside, fatal } = run(topic, {
      handler: (messages) => {
        for (const m of messages) {
          const v = m.value!.toString();
          if (v === '7' || v === '13') (null as unknown as { x: number }).x = 1;
        }
        for (const m of messages) handled.add(m.value!.toString());
        return Promise.resolve();
      },
    });
    await eventually(() => (consumer.status().messages === 20 ? true : undefined));
    expect([...handled].sort((a, b) => +a - +b)).toEqual(
      values.filter((v) => v !== '7' && v !== '13'),
    );
    expect(aside.map((a) => [a.value, a.code])).toEqual([
      ['7', 'INTERNAL_ERROR'],
      ['13', 'INTERNAL_ERROR'],
    ]);
    expect(aside[0]!.message).toMatch(/^TypeError: Cannot set properties of null/);
    expect(fatal).toEqual([]);
    expect(consumer.status().running).toBe(true);
  });

  it('keeps the code of a non-retriable HubError, and sets aside a "transient" error the infrastructure does not explain', async () => {
    const topic = await topicWith(values);
    const { consumer, aside, fatal } = run(topic, {
      handler: (messages) => {
        for (const m of messages) {
          const v = m.value!.toString();
          if (v === '3') throw new HubError('APPLY_FAILED', 'value 3 breaks a constraint', false);
          if (v === '17') throw new HubError('DB_UNREACHABLE', 'it only looks transient', true);
        }
        return Promise.resolve();
      },
    });
    await eventually(() => (consumer.status().messages === 20 ? true : undefined), {
      timeoutMs: 60_000,
    });
    expect(aside.map((a) => [a.value, a.code])).toEqual([
      ['3', 'APPLY_FAILED'],
      ['17', 'INTERNAL_ERROR'],
    ]);
    expect(fatal).toEqual([]);
  });

  it('stops, setting nothing aside and committing nothing, when the infrastructure does not answer', async () => {
    const topic = await topicWith(values);
    const { consumer, aside, fatal } = run(topic, {
      handler: () => Promise.reject(new HubError('DB_UNREACHABLE', 'connection refused', true)),
      probe: () => Promise.reject(new Error('connection refused')),
    });
    await eventually(() => (fatal.length > 0 ? true : undefined), { timeoutMs: 60_000 });
    expect(aside).toEqual([]);
    expect(consumer.status()).toMatchObject({ running: false, messages: 0 });
  });
});
