import {
  DLQ_HEADERS,
  dlqHeaders,
  type FeedError,
  MAX_RECORD_BYTES,
  type HubError,
  TOPICS,
} from '@app/contract';
import type { Message, Producer } from 'kafkajs';
import type { ConsumedMessage } from './batch-consumer.js';
import { brokerReachable } from './kafka-client.js';

/**
 * A value larger than this goes to the DLQ index only: with its headers it would pass what
 * the DLQ topic takes, and a record the hub cannot set aside would stop its consumer.
 */
export const DLQ_VALUE_MAX_BYTES = MAX_RECORD_BYTES - 1024 * 1024;

/** The DLQ record of a rejected or set-aside record: its key and bytes, and the reasons. */
export function dlqRecord(
  m: ConsumedMessage,
  errors: readonly FeedError[],
  rejectedBy: string,
): Message {
  const headers = dlqHeaders(
    errors,
    {
      topic: m.topic,
      partition: m.partition,
      offset: m.offset,
      ...(m.undecodable ? { lastOffset: m.undecodable.lastOffset } : {}),
    },
    rejectedBy,
  );
  const key = m.key ?? null;
  if (m.value && m.value.length > DLQ_VALUE_MAX_BYTES)
    return {
      key,
      value: null,
      headers: { ...headers, [DLQ_HEADERS.valueOmitted]: String(m.value.length) },
    };
  return { key, value: m.value, headers };
}

/** A set-aside record's one error, as the DLQ and its index list errors. */
export const errorOf = (error: HubError): FeedError => ({
  code: error.code as FeedError['code'],
  path: '',
  message: error.message,
});

/** Writes one record to the DLQ topic, acknowledged by every in-sync replica. */
export async function sendToDlq(producer: Producer, message: Message): Promise<void> {
  await producer.send({ topic: TOPICS.dlq, acks: -1, messages: [message] });
}

/**
 * BatchConsumer's probe for a service that needs the database and the broker: throws with
 * what does not answer.
 */
export function infrastructureProbe(
  kafka: Parameters<typeof brokerReachable>[0],
  db: { query: (sql: string) => Promise<unknown> },
): () => Promise<void> {
  return async () => {
    await db.query('SELECT 1');
    const broker = await brokerReachable(kafka);
    if (!broker.ok) throw new Error(`broker: ${broker.detail ?? 'no answer'}`);
  };
}
