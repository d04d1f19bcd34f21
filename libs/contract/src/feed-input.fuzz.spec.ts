import { AdminUnits, SourceRegistry, parsePeriod } from '@app/catalogue';
import { anyJson, anyNumber, anyText, hostileFeed } from '@app/testing/src/hostile-feeds.js';
import fc from 'fast-check';
import { csvPath, csvToFeed } from './csv-feed.js';
import { FEED_ERROR } from './errors.js';
import { readFeedSlice, sliceFeed } from './feed-slice.js';
import { jsonDepth, parseJson } from './safe-json.js';
import { feedRules, SENT_AT_MAX_AHEAD_MS, validateFeed } from './validate-feed.js';

/**
 * Property-based fuzzing of everything a feed passes through before it is accepted (issue 23):
 * whatever the record, the hub answers with a verdict (never a throw) whose every error has a
 * known code, and what it accepts the aggregator can read. 10,600 generated cases in all.
 */
const units = AdminUnits.load('data/admin-units');
const rules = feedRules(units, new SourceRegistry());
const origin = { channel: 'kafka' as const, topic: 'lgsp.feeds.v1', partition: 0, offset: '7' };
const receivedAt = new Date('2026-12-07T10:00:00Z');
const CODES = new Set<string>(Object.values(FEED_ERROR));
const SEED = Number(process.env.FUZZ_SEED ?? 20261207);
const runs = (numRuns: number) => ({ numRuns, seed: SEED });

/** The verdict's shape, and for an accepted feed everything the later stages rely on. */
function checkVerdict(raw: string | Uint8Array): boolean {
  const v = validateFeed(raw, rules, origin, receivedAt);
  if (!v.ok) {
    expect(v.errors.length).toBeGreaterThan(0);
    for (const e of v.errors) {
      expect(CODES.has(e.code)).toBe(true);
      expect(typeof e.message).toBe('string');
    }
    return false;
  }
  const f = v.feed;
  expect(parsePeriod(f.period)).toBeDefined();
  expect(Date.parse(f.sentAt) - receivedAt.getTime()).toBeLessThanOrEqual(SENT_AT_MAX_AHEAD_MS);
  // What the ingest accepts, it can slice, and the aggregator can read back.
  for (const slice of sliceFeed(f, units)) {
    const read = readFeedSlice(JSON.stringify(slice));
    expect(read.ok ? '' : read.problem).toBe('');
  }
  return true;
}

describe('feed input under fuzzing', () => {
  it('answers any JSON document with a verdict whose errors carry known codes (3,000 cases)', () => {
    fc.assert(
      fc.property(anyJson, (j) => void checkVerdict(JSON.stringify(j) ?? 'undefined')),
      runs(3_000),
    );
  });

  it('answers hostile feeds with a verdict, and accepts only what the aggregator can read (4,000 cases)', () => {
    let accepted = 0;
    fc.assert(
      fc.property(hostileFeed, (f) => {
        if (checkVerdict(JSON.stringify(f))) accepted++;
      }),
      runs(4_000),
    );
    // The generator must reach the accepting side too, or the property says little.
    expect(accepted).toBeGreaterThan(20);
  });

  it('answers any bytes, valid UTF-8 or not, with a verdict (1,000 cases)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => void checkVerdict(b)),
      runs(1_000),
    );
  });

  it('refuses nesting of any depth past the limit as MALFORMED_JSON, without recursion (200 cases)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 33, max: 200_000 }), fc.boolean(), (depth, objects) => {
        const open = objects ? '{"a":' : '[';
        const close = objects ? '}' : ']';
        const text = `{"schema":"lgsp.feed.v1","observations":${open.repeat(depth)}1${close.repeat(depth)}}`;
        const v = validateFeed(text, rules, origin, receivedAt);
        expect(v.ok ? [] : v.errors.map((e) => e.code)).toEqual([FEED_ERROR.malformedJson]);
      }),
      runs(200),
    );
  });

  it('reads any slice record without throwing (1,000 cases)', () => {
    fc.assert(
      fc.property(anyJson, (j) => {
        const read = readFeedSlice(
          JSON.stringify({ schema: 'lgsp.feed-slice.v1', ...(j as object) }),
        );
        expect(typeof read.ok).toBe('boolean');
      }),
      runs(1_000),
    );
  });

  it('answers any CSV body with a verdict whose errors carry known codes (1,400 cases)', () => {
    const cell = fc.oneof(
      anyText,
      anyNumber.map(String),
      fc.constantFrom('null', '1.234,5', '"', '""'),
    );
    const csv = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 400 }),
      fc
        .tuple(
          fc.constantFrom(',', ';', '\t'),
          fc.array(fc.array(cell, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 8 }),
          fc.boolean(),
        )
        .map(([d, rows, header]) =>
          [...(header ? [['area', 'measure', 'value', 'items', 'qualifier']] : []), ...rows]
            .map((r) => r.join(d))
            .join(fc.sample(fc.constantFrom('\n', '\r\n'), 1)[0]),
        ),
    );
    fc.assert(
      fc.property(csv, (text) => {
        const r = csvToFeed(
          text,
          {
            source: 'viettel',
            feedId: 'f1',
            period: '2024-06',
            sentAt: '2024-07-05T08:00:00+07:00',
          },
          undefined,
        );
        if (!r.ok) {
          for (const e of r.errors) expect(CODES.has(e.code)).toBe(true);
          return;
        }
        const v = checkVerdict(JSON.stringify(r.plain));
        if (!v) {
          const again = validateFeed(JSON.stringify(r.plain), rules, origin, receivedAt);
          if (!again.ok)
            for (const e of again.errors) expect(typeof csvPath(e.path)).toBe('string');
        }
      }),
      runs(1_400),
    );
  });

  it('measures depth in one pass, whatever the brackets inside strings', () => {
    expect(jsonDepth('{"a":"[[[[{{{{","b":[[1]]}')).toBe(3);
    expect(jsonDepth('"\\"[["')).toBe(0);
    expect(parseJson('{"__proto__":{"x":1}}')).toEqual({
      ok: false,
      message: 'it has a "__proto__" or "constructor.prototype" key',
    });
  });

  it.each([
    ['an object whose constructor is null', { constructor: null }],
    ['an observation that is a list of such objects', [[{ constructor: null }]]],
    ['an observation that is a list', [[1]]],
    ['a number', [5]],
  ])(
    'refuses observations that are %s, naming where (found by the schema test)',
    (_, observations) => {
      const feed = {
        schema: 'lgsp.feed.v1',
        feedId: 'x',
        source: 'viettel',
        sentAt: '2024-07-05T08:00:00+07:00',
        period: '2024',
        observations,
      };
      const v = validateFeed(
        JSON.stringify(feed),
        rules,
        { ...origin, key: 'viettel' },
        receivedAt,
      );
      expect(v.ok).toBe(false);
      const messages = v.ok ? [] : v.errors.map((e) => `${e.path}: ${e.message}`);
      expect(messages).toContainEqual(
        Array.isArray(observations)
          ? 'observations[0]: an observation must be a JSON object'
          : 'observations: observations must be an array',
      );
    },
  );
});
