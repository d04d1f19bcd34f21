import { MAX_RECORD_BYTES } from '@app/contract';
import { Decompress as ZstdStream } from 'fzstd';
import kafkajs from 'kafkajs';
import { compressFrame, decompressFrame } from 'lz4-napi';
import { uncompress as snappyUncompress } from 'snappyjs';
import { promisify } from 'node:util';
import { gzip as gzipCb, unzip as unzipCb } from 'node:zlib';

/**
 * The most bytes one record batch may decompress to. The broker takes a batch of at most
 * MAX_RECORD_BYTES on the wire; a batch that claims to hold far more is a decompression bomb,
 * and is set aside as undecodable instead of taking the service's memory.
 */
export const MAX_DECOMPRESSED_BYTES = 4 * MAX_RECORD_BYTES;

const gzip = promisify(gzipCb);
const unzip = promisify(unzipCb);

type Codec = () => {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
};

const tooLarge = (what: string): Error =>
  new Error(`${what} decompresses to more than ${MAX_DECOMPRESSED_BYTES} bytes`);

/** gzip as kafkajs has it, with the output bounded. */
const gzipCodec: Codec = () => ({
  compress: (encoder) => gzip(encoder.buffer),
  decompress: (buffer) => unzip(buffer, { maxOutputLength: MAX_DECOMPRESSED_BYTES }),
});

const XERIAL_HEADER = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0]);

/**
 * Snappy as Kafka's Java client writes it: xerial-framed blocks (a 16-byte header, then a
 * 4-byte length before each block), or one raw block. kafkajs-snappy does the same but joins
 * blocks pairwise (quadratic in a large batch) and with no bound on their size.
 */
const snappyCodec: Codec = () => ({
  compress: () => Promise.reject(new Error('the hub does not produce snappy')),
  // async: a decoding error becomes a rejection, as kafkajs' own codecs give it.
  decompress: async (buffer) => {
    if (!buffer.subarray(0, 8).equals(XERIAL_HEADER))
      return Buffer.from(snappyUncompress(buffer, MAX_DECOMPRESSED_BYTES));
    const blocks: Buffer[] = [];
    let total = 0;
    for (let at = 16; at + 4 <= buffer.length;) {
      const size = buffer.readUInt32BE(at);
      at += 4;
      if (at + size > buffer.length) throw new Error('snappy block runs past the batch');
      const block = Buffer.from(
        snappyUncompress(buffer.subarray(at, at + size), MAX_DECOMPRESSED_BYTES - total),
      );
      total += block.length;
      blocks.push(block);
      at += size;
    }
    return Buffer.concat(blocks, total);
  },
});

/**
 * An upper bound of what an LZ4 frame decompresses to: its blocks times the block size its
 * header declares, read without decompressing anything.
 */
export function lz4FrameBound(frame: Buffer): number {
  if (frame.length < 7 || frame.readUInt32LE(0) !== 0x184d2204) throw new Error('not an LZ4 frame');
  const flags = frame[4]!;
  const blockMax = [0, 0, 0, 0, 64 << 10, 256 << 10, 1 << 20, 4 << 20][(frame[5]! >> 4) & 7]!;
  if (blockMax === 0) throw new Error('LZ4 frame declares no block size');
  const blockChecksum = flags & 0x10 ? 4 : 0;
  let at = 4 + 2 + (flags & 0x08 ? 8 : 0) + (flags & 0x01 ? 4 : 0) + 1;
  let blocks = 0;
  while (at + 4 <= frame.length) {
    const size = frame.readUInt32LE(at) & 0x7fffffff;
    if (size === 0) break;
    at += 4 + size + blockChecksum;
    blocks++;
  }
  return blocks * blockMax;
}

/** LZ4 frames (Kafka's format since message format v1). */
const lz4Codec: Codec = () => ({
  compress: (encoder) => compressFrame(encoder.buffer),
  decompress: async (buffer) => {
    if (lz4FrameBound(buffer) > MAX_DECOMPRESSED_BYTES) throw tooLarge('LZ4 batch');
    return await decompressFrame(buffer);
  },
});

/** Zstandard, streamed so that a batch is cut off once it passes the bound. */
const zstdCodec: Codec = () => ({
  compress: () => Promise.reject(new Error('the hub does not produce zstd')),
  decompress: async (buffer) => {
    const chunks: Uint8Array[] = [];
    let total = 0;
    const stream = new ZstdStream((chunk) => {
      total += chunk.length;
      if (total > MAX_DECOMPRESSED_BYTES) throw tooLarge('zstd batch');
      chunks.push(chunk);
    });
    stream.push(buffer, true);
    return Buffer.concat(chunks, total);
  },
});

/**
 * Every codec of the Kafka protocol, for every consumer the hub runs: operators' platforms
 * use Kafka's Java client, and compress with any of them (issue 23). A batch that one of
 * them cannot decode is set aside by the consumer (see patches/kafkajs and BatchConsumer).
 */
export function registerCodecs(): void {
  // kafkajs is CommonJS: its named exports are read off the default one under ESM.
  const { CompressionCodecs, CompressionTypes } = kafkajs;
  const codecs = CompressionCodecs as unknown as Record<number, Codec>;
  codecs[CompressionTypes.GZIP] = gzipCodec;
  codecs[CompressionTypes.Snappy] = snappyCodec;
  codecs[CompressionTypes.LZ4] = lz4Codec;
  codecs[CompressionTypes.ZSTD] = zstdCodec;
}
