import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { keyPartition, murmur2 } from './murmur2.js';

const require = createRequire(import.meta.url);
/** kafkajs' own murmur2, the one its DefaultPartitioner uses. */
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (
  key: string | Buffer,
) => number;

describe('murmur2 partitioning', () => {
  it('gives the hashes of the Java client for its published test vectors', () => {
    // org.apache.kafka.common.utils.UtilsTest#testMurmur2
    expect(murmur2('21')).toBe(-973932308);
    expect(murmur2('foobar')).toBe(-790332482);
    expect(murmur2('a-little-bit-long-string')).toBe(-985981536);
    expect(murmur2('a-little-bit-longer-string')).toBe(-1486304829);
    expect(murmur2('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8')).toBe(-58897971);
    expect(murmur2(Buffer.from([0x61, 0x62, 0x63]))).toBe(479470107);
  });

  it('hashes every KPI key, string or Buffer, of any length and script, as kafkajs does', () => {
    const keys: (string | Buffer)[] = [''];
    for (let i = 0; i < 5_000; i++) {
      const period = `${2020 + (i % 7)}-${['01', 'Q2', 'H1', ''][i % 4]}`;
      keys.push(`MBB_SUB_P100|${String(i).padStart(5, '0')}|${period}`);
      keys.push(randomBytes(i % 97));
      keys.push(`Hà Nội ${'đường '.repeat(i % 60)}${i}`);
    }
    const differ = keys.filter((k) => murmur2(k) !== kafkajsMurmur2(k));
    expect(differ).toEqual([]);
  });

  it('places a key in the partition of the default partitioner, positive modulo the count', () => {
    const key = 'VIL_MBB_COV|11|2024-H1';
    expect(keyPartition(key, 12)).toBe((kafkajsMurmur2(key) & 0x7fffffff) % 12);
    for (let n = 1; n <= 64; n++) {
      const p = keyPartition(`FBB_SUB_P100|${n}|2024`, n);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(n);
    }
  });
});
