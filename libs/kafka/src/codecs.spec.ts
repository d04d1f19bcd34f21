import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import kafkajs from 'kafkajs';
import { compressFrameSync } from 'lz4-napi';
import { compress as snappyCompress } from 'snappyjs';
import { lz4FrameBound, MAX_DECOMPRESSED_BYTES, registerCodecs } from './codecs.js';

const require = createRequire(import.meta.url);
// kafkajs' own record batch decoder, as patched (patches/kafkajs+2.2.4.patch).
const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => unknown;
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (
  d: unknown,
) => Promise<{ records: { offset: string; value: Buffer; undecodable?: { reason: string } }[] }>;

registerCodecs();
const codec = (type: number) =>
  (
    kafkajs.CompressionCodecs as unknown as Record<
      number,
      () => { decompress(b: Buffer): Promise<Buffer> }
    >
  )[type]!();
const { GZIP, Snappy, LZ4, ZSTD } = kafkajs.CompressionTypes;
const text = Buffer.from('{"schema":"lgsp.feed.v1"}'.repeat(5_000));

/** A v2 record batch header before `records` (3 records claimed, offsets 40..42). */
function recordBatch(attributes: number, records: Buffer): Buffer {
  const body = Buffer.alloc(45);
  let at = 0;
  at = body.writeInt32BE(0, at); // partition leader epoch
  at = body.writeInt8(2, at); // magic
  at = body.writeInt32BE(0, at); // crc (not checked by kafkajs)
  at = body.writeInt16BE(attributes, at);
  at = body.writeInt32BE(2, at); // last offset delta
  at += 16; // first and max timestamp
  at = body.writeBigInt64BE(-1n, at); // producer id
  at = body.writeInt16BE(-1, at);
  body.writeInt32BE(-1, at);
  const count = Buffer.alloc(4);
  count.writeInt32BE(3);
  const head = Buffer.alloc(12);
  head.writeBigInt64BE(40n, 0);
  head.writeInt32BE(body.length + 4 + records.length, 8);
  return Buffer.concat([head, body, count, records]);
}

describe('the codecs every consumer reads with', () => {
  it('decompresses gzip, raw and xerial-framed snappy, and LZ4 frames to the bytes sent', async () => {
    expect(await codec(GZIP).decompress(gzipSync(text))).toEqual(text);
    expect(await codec(Snappy).decompress(Buffer.from(snappyCompress(text)))).toEqual(text);
    const blocks = [text.subarray(0, 30_000), text.subarray(30_000)].map((b) => {
      const c = Buffer.from(snappyCompress(b));
      const size = Buffer.alloc(4);
      size.writeUInt32BE(c.length);
      return Buffer.concat([size, c]);
    });
    const xerial = Buffer.concat([
      Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0, 0, 0, 0, 1, 0, 0, 0, 1]),
      ...blocks,
    ]);
    expect(await codec(Snappy).decompress(xerial)).toEqual(text);
    expect(await codec(LZ4).decompress(compressFrameSync(text))).toEqual(text);
  });

  it('refuses a batch that would decompress past the bound instead of allocating it', async () => {
    const bomb = gzipSync(Buffer.alloc(MAX_DECOMPRESSED_BYTES + 1));
    await expect(codec(GZIP).decompress(bomb)).rejects.toThrow(
      /Cannot create a Buffer larger|maxOutputLength|larger than/,
    );
    const frame = compressFrameSync(Buffer.alloc(8 * 1024 * 1024));
    expect(lz4FrameBound(frame)).toBeGreaterThanOrEqual(8 * 1024 * 1024);
    await expect(codec(ZSTD).decompress(Buffer.from('not zstd'))).rejects.toThrow();
  });

  it('turns a batch it cannot decompress into one stand-in record at its last offset', async () => {
    const batch = recordBatch(ZSTD, Buffer.from('definitely not zstd'));
    const { records } = await decodeBatch(new Decoder(batch));
    expect(records).toHaveLength(1);
    expect(records[0]!.offset).toBe('42');
    expect(records[0]!.undecodable?.reason).toMatch(/zstd|invalid|magic/i);
    expect(records[0]!.value.length).toBeGreaterThan(0);
  });
});
