import fc from 'fast-check';

/**
 * Generators of hostile input (fast-check), shared by the unit fuzzing of the validation code
 * and the e2e fuzzing of the running hub (issue 23): text of every Unicode category, lone
 * surrogates and NUL, numbers at every edge, random JSON, and feeds whose every field may be
 * any of those while most stay plausible, so that both the refusing and the accepting paths
 * are walked.
 */
/** Text of every kind: any code point (lone surrogates, NUL, controls), and plausible codes. */
export const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.constantFrom('', ' ', '\u0000', '\ud800', '__proto__', 'constructor', 'null', '1e999'),
  fc.stringMatching(/^\d{2}(\d|\d{3})?$/),
  fc.constantFrom('37', '01', '79', '11', '00', '99999', '001'),
);
/** Numbers at every edge JSON can carry (NaN and infinities become null in JSON). */
export const anyNumber = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(0, -0, 1e308, -1e308, 5e-324, 2 ** 53, 2 ** 53 + 2, 1e10, 1e10 + 1, -1),
);
export const anyJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    anyText,
    anyNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(anyText, tie('value'), { maxKeys: 4 }),
  ),
})).value;

const measures = fc.constantFrom(
  'mbb_subscriptions',
  'mobile_subscriptions',
  'villages_mbb_covered',
  'bts_sites',
  'population',
  'telecom_revenue_vnd',
  'mbb_download_mbps',
  'mbb_subscriptons',
);
const periods = fc.oneof(
  fc.constantFrom('2024', '2024-H1', '2024-Q2', '2024-06', '2025-07', '2026-12', '2027-01'),
  fc.constantFrom('1899', '0000', '3000', '2099-01', '2024-13', '2024-Q5', '2024-H3'),
  fc.stringMatching(/^\d{4}(-(H[12]|Q[1-4]|0[1-9]|1[0-2]))?$/),
);
const sentAts = fc.oneof(
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom(
    '2024-07-05T08:00:00+07:00',
    '2098-01-01T00:00:00Z',
    '2016-12-31T23:59:60Z',
    '2024-02-30T00:00:00Z',
    '+275760-09-13T00:00:00Z',
  ),
  anyText,
);
/** Mostly valid, now and then anything: each field on its own. */
const mostly = <T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>) =>
  fc.oneof({ weight: 9, arbitrary: good }, { weight: 1, arbitrary: bad });
const validObservation = fc.oneof(
  fc.record({
    area: fc.constantFrom('37', '36', '01', '79', '15', '38', '001', '00004'),
    measure: fc.constantFrom('mbb_subscriptions', 'mobile_subscriptions', 'population'),
    value: fc.oneof(fc.nat(), fc.constant(null)),
  }),
  fc.record({
    area: fc.constantFrom('37', '01'),
    measure: fc.constantFrom('villages_mbb_covered', 'bts_sites'),
    items: fc.uniqueArray(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }), {
      maxLength: 4,
    }),
  }),
);
const hostileObservation = fc.record(
  {
    area: fc.oneof(fc.constantFrom('37', '36', '01', '79', '15', '38', '00'), anyText),
    measure: fc.oneof(measures, anyText),
    value: fc.oneof(anyNumber, fc.constant(null), anyJson),
    items: fc.oneof(fc.array(anyText, { maxLength: 5 }), fc.constant(null), anyJson),
    qualifier: fc.oneof(fc.constantFrom('>', '>=', '<', '<=', '~'), anyText),
  },
  { requiredKeys: ['area', 'measure'] },
);
/** A feed, most fields plausible, any of them hostile. */
export const hostileFeed = fc.record(
  {
    schema: mostly(fc.constant('lgsp.feed.v1'), anyText),
    feedId: mostly(fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/), anyText),
    source: mostly(fc.constantFrom('viettel', 'vnpt', 'gso'), anyText),
    sentAt: mostly(fc.constant('2024-07-05T08:00:00+07:00'), sentAts),
    period: mostly(fc.constantFrom('2024', '2024-H1', '2024-Q2', '2024-06'), periods),
    status: mostly(fc.constantFrom('actual', 'estimate', 'provisional'), anyText),
    observations: mostly(
      fc.array(mostly(validObservation, hostileObservation), { minLength: 1, maxLength: 6 }),
      anyJson,
    ),
    extra: anyJson,
  },
  { requiredKeys: ['schema', 'feedId', 'source', 'sentAt', 'period', 'observations'] },
);
