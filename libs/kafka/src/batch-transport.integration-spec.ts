import { Controller, type INestApplication, Module, UseFilters } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { HubError } from '@app/contract';
import { eventually, kafkaClient, uniqueSuffix } from '@app/testing';
import type { Kafka } from 'kafkajs';
import type { ConsumedMessage } from './batch-consumer.js';
import {
  BatchContext,
  BatchTransport,
  KeepBatchErrors,
  setAsidePattern,
  type SetAsideRecord,
} from './batch-transport.js';
import { ensureTopics } from './kafka-client.js';

/**
 * The batch transport as a Nest microservice against a real broker: `@EventPattern` handlers
 * get whole batches with their context, the records they refuse reach the set-aside handler
 * with the error as thrown, and topics the subscription adds later are joined.
 */
const seen: { values: string[]; topic: string; partition: number; backlog: boolean }[] = [];
const setAside: { value: string; code: string }[] = [];

@Controller()
@UseFilters(KeepBatchErrors)
class NumbersController {
  @EventPattern<string>('numbers')
  handle(@Payload() messages: ConsumedMessage[], @Ctx() ctx: BatchContext): Promise<void> {
    const values = messages.map((m) => m.value!.toString());
    if (values.includes('13'))
      throw new HubError('UNLUCKY', 'thirteen is refused', /* retriable */ false);
    seen.push({
      values,
      topic: ctx.getTopic(),
      partition: ctx.getPartition(),
      backlog: ctx.hasBacklog(),
    });
    return ctx.heartbeat();
  }

  @EventPattern<string>(setAsidePattern('numbers'))
  refuse(@Payload() { message, error }: SetAsideRecord): void {
    setAside.push({ value: message.value!.toString(), code: error.code });
  }
}

@Module({ controllers: [NumbersController] })
class NumbersModule {}

let kafka: Kafka;
let app: INestApplication;
let transport: BatchTransport;
const topics: string[] = [];

async function send(topic: string, values: string[]): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: values.map((value) => ({ value })) });
  await producer.disconnect();
}

beforeAll(async () => {
  kafka = kafkaClient();
  for (let i = 0; i < 2; i++) topics.push(`lgsp.test-transport-${uniqueSuffix()}`);
  await ensureTopics(
    kafka,
    topics.map((topic) => ({ topic, numPartitions: 1 })),
  );
  await send(
    topics[0]!,
    Array.from({ length: 20 }, (_, i) => String(i)),
  );
  // Sent before the subscription wants this topic: joining it later must still read them.
  await send(topics[1]!, ['a', 'b']);
  app = await NestFactory.create(NumbersModule, { logger: false });
  transport = new BatchTransport(kafka);
  let wanted = [topics[0]!];
  transport.subscribe('numbers', {
    groupId: `transport-${uniqueSuffix()}`,
    topics: () => Promise.resolve(wanted),
    refreshTopicsMs: 500,
    retries: 2,
    probe: () => Promise.resolve(),
  });
  app.connectMicroservice({ strategy: transport });
  await app.init();
  await app.startAllMicroservices();
  wanted = topics;
});

afterAll(async () => {
  await app?.close();
});

describe('BatchTransport', () => {
  it('hands each batch to its @EventPattern handler, with the batch context', async () => {
    await eventually(() =>
      transport.consumerStatus('numbers')?.messages === 20 ? true : undefined,
    );
    const handled = seen.flatMap((b) => b.values);
    expect(handled).toEqual(
      Array.from({ length: 20 }, (_, i) => String(i)).filter((v) => v !== '13'),
    );
    expect(seen.every((b) => b.topic === topics[0] && b.partition === 0)).toBe(true);
  });

  it('sets aside the record a handler refuses, with the error code it threw', () => {
    expect(setAside).toEqual([{ value: '13', code: 'UNLUCKY' }]);
  });

  it('joins a topic the subscription adds while it runs, and reads it from its start', async () => {
    await eventually(() =>
      seen.some((b) => b.topic === topics[1] && b.values.join() === 'a,b') ? true : undefined,
    );
    expect(transport.consumerStatus('numbers')?.running).toBe(true);
  });
});
