import { AdminUnits } from '@app/catalogue';
import { Partitioners } from 'kafkajs';
import { slicePlacement } from './feed-slice.js';

const units = AdminUnits.load('data/admin-units');
const groups = [...new Set(units.all('2025').map((u) => units.groupOf('2025', u.code)!))].sort();
/** Units per group, both boundary sets: what a group costs the instance that owns it. */
const weight = new Map<string, number>();
for (const bs of ['2008', '2025'] as const)
  for (const u of units.all(bs)) {
    const g = units.groupOf(bs, u.code)!;
    weight.set(g, (weight.get(g) ?? 0) + 1);
  }
const loads = (place: (g: string) => number, partitions: number): number[] => {
  const load = new Array<number>(partitions).fill(0);
  for (const g of groups) load[place(g)]! += weight.get(g)!;
  return load;
};

describe('slicePlacement: the partition of each aggregation group on lgsp.feed-slices.v1', () => {
  it('puts all 34 groups on the 12 partitions, every partition holding some', () => {
    const place = slicePlacement(units, 12);
    expect(groups).toHaveLength(34);
    const used = new Set(groups.map(place));
    expect([...used].sort((a, b) => a - b)).toEqual([...Array(12).keys()]);
  });

  it('gives no partition more than 1.1 times the average work, where murmur2 gave 2.4', () => {
    const balanced = loads(slicePlacement(units, 12), 12);
    const average = balanced.reduce((a, b) => a + b) / 12;
    expect(Math.max(...balanced) / average).toBeLessThan(1.1);
    const partition = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: 12 }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
      partitionErrorCode: 0,
    }));
    const murmur2 = loads(
      (key) =>
        partition({
          topic: 'lgsp.feed-slices.v1',
          partitionMetadata,
          message: { key, value: null },
        }),
      12,
    );
    expect(Math.max(...murmur2) / average).toBeGreaterThan(2.4);
    expect(murmur2.filter((w) => w === 0)).toHaveLength(1);
  });

  it('splits the work within 5 % of halves between two instances of 6 partitions each', () => {
    const l = loads(slicePlacement(units, 12), 12);
    const total = l.reduce((a, b) => a + b);
    const share = (mine: (p: number) => boolean): number =>
      l.filter((_, p) => mine(p)).reduce((a, b) => a + b) / total;
    // Round robin (0, 2, 4, ... and 1, 3, 5, ...) or ranges (0-5 and 6-11).
    expect(Math.abs(share((p) => p % 2 === 0) - 0.5)).toBeLessThan(0.05);
    expect(Math.abs(share((p) => p < 6) - 0.5)).toBeLessThan(0.05);
  });

  it('is the same table for every caller, and refuses a group it does not know', () => {
    const a = slicePlacement(units, 12);
    const b = slicePlacement(units, 12);
    expect(groups.map(a)).toEqual(groups.map(b));
    expect(() => a('99')).toThrow(/no aggregation group 99/);
    expect(new Set(groups.map(slicePlacement(units, 1)))).toEqual(new Set([0]));
  });
});
