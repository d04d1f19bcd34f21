import { mustParsePeriod, shiftPeriod, subPeriods } from './period.js';

describe('periods', () => {
  it('lists what a half is built from: its quarters, each followed by its months', () => {
    expect(subPeriods(mustParsePeriod('2024-H1')).map((p) => p.code)).toEqual([
      '2024-Q1',
      '2024-01',
      '2024-02',
      '2024-03',
      '2024-Q2',
      '2024-04',
      '2024-05',
      '2024-06',
    ]);
    expect(subPeriods(mustParsePeriod('2024'))).toHaveLength(2 + 4 + 12);
    expect(subPeriods(mustParsePeriod('2024-07'))).toEqual([]);
  });

  it.each([
    ['2024-Q1', -1, '2023-Q4'],
    ['2024-H2', 1, '2025-H1'],
    ['2024-01', -13, '2022-12'],
    ['2024', -2, '2022'],
  ])('shifts %s by %i to %s', (code, n, expected) => {
    expect(shiftPeriod(mustParsePeriod(code), n)).toBe(expected);
  });
});
