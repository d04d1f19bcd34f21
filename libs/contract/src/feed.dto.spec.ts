import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { ObservationDto, observationIsValid } from './feed.dto.js';

/** What class-validator says of one observation, as validateFeed runs it. */
function classValidatorAccepts(o: object): boolean {
  return (
    validateSync(plainToInstance(ObservationDto, o), {
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
    }).length === 0
  );
}

const choices = {
  area: ['37', '374', '14386', '1', '123456', 37, null, '3a', '', ' 37', '3745', undefined],
  measure: ['mbb_subscriptions', '', 'x'.repeat(64), 'x'.repeat(65), 'ño', 5, null, undefined],
  value: [1, 0, -1, 1.5, 1e300, Number.NaN, Infinity, -Infinity, '5', null, undefined, true],
  items: [
    ['a', 'b'],
    [],
    ['a', 'a'],
    ['', 'b'],
    ['x'.repeat(64)],
    ['x'.repeat(65)],
    [1],
    'a',
    null,
    undefined,
    ['é'],
    [null],
  ],
  qualifier: ['>', '>=', '<', '<=', '~', 'x', '', null, undefined, 5],
} as const;

function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

describe('the compiled observation rules (validateFeed hot path)', () => {
  const r = rng(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const cases: Record<string, unknown>[] = [];
  for (let i = 0; i < 10_000; i++) {
    const o: Record<string, unknown> = {};
    for (const [field, values] of Object.entries(choices)) {
      if (r() < 0.25) continue; // absent
      const v = pick(values as readonly unknown[]);
      if (v !== undefined || r() < 0.5) o[field] = v;
    }
    if (r() < 0.05) o.unknownField = 1;
    cases.push(o);
  }

  it('never accepts an observation class-validator would reject', () => {
    const wrong = cases.filter((o) => observationIsValid(o) && !classValidatorAccepts(o));
    expect(wrong.slice(0, 3)).toEqual([]);
  });

  it('accepts every observation class-validator accepts, but for text outside ASCII', () => {
    const ascii = (o: object) => !/[^\x00-\x7f]/.test(JSON.stringify(o));
    const missed = cases.filter(
      (o) => ascii(o) && classValidatorAccepts(o) && !observationIsValid(o),
    );
    expect(missed.slice(0, 3)).toEqual([]);
    // and the samples exercise both answers
    expect(cases.filter((o) => observationIsValid(o)).length).toBeGreaterThan(40);
    expect(cases.filter((o) => !observationIsValid(o)).length).toBeGreaterThan(50);
  });

  it('rejects what is not an observation object at all', () => {
    for (const x of [null, 5, 'x', [], [{ area: '37' }]]) expect(observationIsValid(x)).toBe(false);
  });
});
