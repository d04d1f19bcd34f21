import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';

/**
 * `patches/kafkajs+2.2.4.patch` encodes a produce request's uncompressed record batches into one
 * buffer each, and computes CRC32C eight bytes at a time. The bytes must be kafkajs' own: a
 * record with a timestamp still takes kafkajs' general encoder, which gives the reference.
 */
const require = createRequire(import.meta.url);
type Message = {
  key: string | Buffer | null;
  value: string | Buffer | null;
  timestamp?: number;
  headers?: Record<string, string | Buffer | (string | Buffer)[]>;
};
type Encode = (args: object) => { encode(): Promise<{ buffer: Buffer }> };
const produceV3 = require('kafkajs/src/protocol/requests/produce/v3/request.js') as Encode;
const Long = require('kafkajs/src/utils/long') as { fromValue(v: number): unknown };
const encodeUncompressed = require('kafkajs/src/protocol/recordBatch/v0/encodeUncompressed.js') as (
  args: object,
) => { buffer: Buffer } | undefined;
const crc32C = require('kafkajs/src/protocol/recordBatch/crc32C') as (b: Buffer) => number;
interface Encoder {
  readonly buffer: Buffer;
  writeInt32(n: number): Encoder;
  writeBytes(b: Buffer): Encoder;
  writeArray(a: Encoder[]): Encoder;
  writeEncoderArray(a: Encoder[]): Encoder;
}
const Encoder = require('kafkajs/src/protocol/encoder') as new (size?: number) => Encoder;
const frame = require('kafkajs/src/protocol/request') as (args: {
  correlationId: number;
  clientId: string;
  request: { apiKey: number; apiVersion: number; encode(): Promise<Encoder> };
}) => Promise<Encoder>;
const int32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

const NOW = 1_764_640_000_123;

async function request(
  messages: Message[][],
  transactionalId: string | null = null,
): Promise<Buffer> {
  const encoded = await produceV3({
    acks: -1,
    timeout: 30_000,
    transactionalId,
    producerId: Long.fromValue(4_200_000_017),
    producerEpoch: 3,
    compression: 0,
    topicData: [
      {
        topic: 'lgsp.kpi.v1',
        partitions: messages.map((m, partition) => ({
          partition,
          firstSequence: 1_000 * partition,
          messages: m,
        })),
      },
    ],
  }).encode();
  return encoded.buffer;
}

/** The same records with every timestamp at NOW: kafkajs' general encoder, delta 0 as in the fast one. */
const timestamped = (messages: Message[][]): Message[][] =>
  messages.map((ms) => ms.map((m) => ({ ...m, timestamp: NOW })));

describe("kafkajs' patched produce encoding", () => {
  const realNow = Date.now;
  beforeEach(() => (Date.now = () => NOW));
  afterEach(() => (Date.now = realNow));

  it('writes the bytes of kafkajs for KPI events, slices with headers, nulls and empty values', async () => {
    const batches: Message[][] = [];
    for (let b = 0; b < 40; b++) {
      batches.push(
        Array.from({ length: 1 + ((b * 37) % 300) }, (_, i) => ({
          key:
            i % 17 === 0
              ? null
              : b % 3
                ? `MBB_SUB_P100|${10_000 + i}|2024-Q${(i % 4) + 1}`
                : randomBytes(12),
          value:
            i % 13 === 0
              ? null
              : i % 19 === 0
                ? ''
                : b % 2
                  ? `{"areaName":"Hà Nội","n":"${'x'.repeat((i * 31) % 2_000)}"}`
                  : randomBytes((i * 7) % 500),
          ...(i % 5 === 0
            ? { headers: { 'lgsp-backlog': '1', 'lgsp-many': ['a', Buffer.from('bé')], ổ: 'ü' } }
            : {}),
        })),
      );
    }
    // The fast path takes each of these batches itself, and leaves a timestamped one to kafkajs.
    const args = {
      firstSequence: 0,
      producerId: Long.fromValue(1),
      producerEpoch: 0,
      transactional: false,
    };
    for (const [partition, messages] of batches.entries()) {
      expect(encodeUncompressed({ ...args, partition, messages })).toBeDefined();
    }
    expect(
      encodeUncompressed({ ...args, partition: 0, messages: timestamped(batches)[0] }),
    ).toBeUndefined();
    for (const txn of [null, 'tx']) {
      const fast = await request(batches, txn);
      const general = await request(timestamped(batches), txn);
      expect(fast.length).toBe(general.length);
      expect(fast.equals(general)).toBe(true);
    }
  });

  it('frames a request as its size, header and payload in one buffer, and appends encoders as their bytes', async () => {
    // The patch reserves room for a list of encoders at once and writes a request's size in
    // front of it instead of copying the request behind it.
    const parts = Array.from({ length: 12 }, (_, i) =>
      new Encoder().writeBytes(randomBytes(1 + i * 9_000)),
    );
    const bytes = Buffer.concat(parts.map((p) => p.buffer));
    expect(new Encoder().writeArray(parts).buffer.equals(Buffer.concat([int32(12), bytes]))).toBe(
      true,
    );
    expect(
      new Encoder()
        .writeInt32(7)
        .writeEncoderArray(parts)
        .buffer.equals(Buffer.concat([int32(7), bytes])),
    ).toBe(true);

    const payload = new Encoder().writeArray(parts);
    const framed = await frame({
      correlationId: 42,
      clientId: 'lgsp-hub-relay',
      request: { apiKey: 0, apiVersion: 3, encode: () => Promise.resolve(payload) },
    });
    const header = Buffer.alloc(10);
    header.writeInt16BE(0, 0); // Produce
    header.writeInt16BE(3, 2);
    header.writeInt32BE(42, 4);
    header.writeInt16BE('lgsp-hub-relay'.length, 8);
    const body = Buffer.concat([header, Buffer.from('lgsp-hub-relay'), payload.buffer]);
    expect(framed.buffer.readInt32BE(0)).toBe(body.length);
    expect(framed.buffer.subarray(4).equals(body)).toBe(true);
  });

  it('computes CRC32C as the bytewise definition does, for every length', () => {
    const table = Array.from({ length: 256 }, (_, n) => {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
      return c >>> 0;
    });
    const bytewise = (b: Buffer): number => {
      let c = ~0;
      for (const byte of b) c = table[(c ^ byte) & 0xff]! ^ (c >>> 8);
      return ~c >>> 0;
    };
    expect(crc32C(Buffer.from('123456789'))).toBe(0xe3069283);
    for (let n = 0; n < 600; n++) {
      const b = randomBytes(n);
      expect(crc32C(b)).toBe(bytewise(b));
    }
  });
});
