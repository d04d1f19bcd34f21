/**
 * The partition of a keyed record as Kafka's Java client and kafkajs' DefaultPartitioner
 * choose it: murmur2 of the key's UTF-8 bytes, made positive, modulo the partitions. kafkajs
 * computes the same 32 bits with a BigInt-backed Long per step (about 2 µs a key, a tenth of
 * the relay's produce cost); `Math.imul` keeps them in 32-bit integers. A compacted topic
 * needs every revision of a key in one partition, so this must never differ from kafkajs: the
 * spec compares them.
 */
const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Reused for keys up to its size: a key is encoded into it, not into a Buffer of its own. */
const scratch = Buffer.allocUnsafe(256);

export function murmur2(key: string | Buffer): number {
  let data: Uint8Array;
  let length: number;
  if (typeof key !== 'string') {
    data = key;
    length = key.length;
  } else if (key.length * 3 <= scratch.length) {
    data = scratch;
    length = scratch.write(key);
  } else {
    data = Buffer.from(key);
    length = data.length;
  }
  let h = SEED ^ length;
  const length4 = length & ~3;
  for (let i = 0; i < length4; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= data[length4 + 2]! << 16;
  if (rest >= 2) h ^= data[length4 + 1]! << 8;
  if (rest >= 1) h = Math.imul(h ^ data[length4]!, M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition of `key` among `partitions`, as the Java client's default partitioner. */
export function keyPartition(key: string | Buffer, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}
