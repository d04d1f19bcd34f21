import type { Message, Producer, ProducerBatch } from 'kafkajs';
import { sendInChunks } from './kafka-client.js';

/** A producer that only records the requests it is asked to send (no broker: pure chunking). */
function recorder(): { producer: Producer; requests: ProducerBatch[] } {
  const requests: ProducerBatch[] = [];
  const producer = {
    sendBatch: (batch: ProducerBatch) => {
      requests.push(batch);
      return Promise.resolve([]);
    },
  } as unknown as Producer;
  return { producer, requests };
}

const message = (key: string, bytes: number): Message => ({ key, value: 'x'.repeat(bytes) });
const keys = (r: ProducerBatch): string[] =>
  (r.topicMessages ?? []).flatMap((t) => t.messages.map((m) => `${t.topic}:${String(m.key)}`));
const bytesOf = (r: ProducerBatch): number =>
  (r.topicMessages ?? [])
    .flatMap((t) => t.messages)
    .reduce((n, m) => n + String(m.value).length, 0);

describe('sendInChunks', () => {
  it('splits messages into requests of at most maxBytes of values, in order, all acked', async () => {
    const { producer, requests } = recorder();
    const messages = Array.from({ length: 10 }, (_, i) => message(`k${i}`, 300));
    await sendInChunks(producer, [{ topic: 't', messages }], 1_000);
    expect(requests.map(bytesOf)).toEqual([900, 900, 900, 300]);
    expect(requests.flatMap(keys)).toEqual(messages.map((m) => `t:${String(m.key)}`));
    expect(requests.every((r) => r.acks === -1)).toBe(true);
  });

  it('sends a message larger than maxBytes alone rather than dropping or splitting it', async () => {
    const { producer, requests } = recorder();
    await sendInChunks(
      producer,
      [{ topic: 't', messages: [message('a', 100), message('big', 5_000), message('b', 100)] }],
      1_000,
    );
    expect(requests.map(keys)).toEqual([['t:a'], ['t:big'], ['t:b']]);
  });

  it('keeps several topics in one request while they fit, each message under its own topic', async () => {
    const { producer, requests } = recorder();
    await sendInChunks(
      producer,
      [
        { topic: 'slices', messages: [message('s1', 200), message('s2', 200)] },
        { topic: 'audit', messages: [message('a1', 200)] },
      ],
      1_000,
    );
    expect(requests).toHaveLength(1);
    expect(requests[0]!.topicMessages!.map((t) => t.topic)).toEqual(['slices', 'audit']);
    expect(keys(requests[0]!)).toEqual(['slices:s1', 'slices:s2', 'audit:a1']);
  });

  it('sends nothing for no messages', async () => {
    const { producer, requests } = recorder();
    await sendInChunks(producer, [{ topic: 't', messages: [] }], 1_000);
    expect(requests).toEqual([]);
  });
});
