import { AdminUnits, SourceRegistry } from '@app/catalogue';
import { hostileFeed } from '@app/testing/src/hostile-feeds.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { feedJsonSchema } from './feed-schema.js';
import { feedRules, validateFeed } from './validate-feed.js';

/**
 * The JSON Schema producers check their feeds with, held to the hub's own validation with a
 * standard validator (Ajv): it is never stricter than the hub (a feed the hub accepts passes
 * it), and it refuses the shapes a schema can tell.
 */
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats.default(ajv);
const check = ajv.compile(feedJsonSchema());

const units = AdminUnits.load('data/admin-units');
const rules = feedRules(units, new SourceRegistry());
const origin = { channel: 'kafka' as const, topic: 'lgsp.feeds.v1', partition: 0, offset: '1' };
const receivedAt = new Date('2026-12-07T10:00:00Z');
const good = {
  schema: 'lgsp.feed.v1',
  feedId: 'vt-2024-06',
  source: 'viettel',
  sentAt: '2024-07-05T08:00:00+07:00',
  period: '2024-06',
  status: 'actual',
  observations: [
    { area: '37', measure: 'mbb_subscriptions', value: 694250 },
    { area: '37', measure: 'villages_mbb_covered', items: ['14386-01', '14386-02'] },
    { area: '37', measure: 'fbb_subscriptions', value: null },
  ],
};

describe('the JSON Schema of lgsp.feed.v1', () => {
  it('passes a feed the hub accepts', () => {
    expect(
      validateFeed(JSON.stringify(good), rules, { ...origin, key: 'viettel' }, receivedAt),
    ).toMatchObject({ ok: true });
    expect(check(good)).toBe(true);
  });

  it.each([
    ['an unknown field', { ...good, extra: 1 }],
    ['no observations', { ...good, observations: [] }],
    ['a period that is no period', { ...good, period: '2024-Q5' }],
    ['sentAt without an offset', { ...good, sentAt: 'yesterday' }],
    ['a negative value', { ...good, observations: [{ area: '37', measure: 'm', value: -1 }] }],
    ['an area that is no code', { ...good, observations: [{ area: 'Ninh Bình', measure: 'm' }] }],
    [
      'repeated items',
      { ...good, observations: [{ area: '37', measure: 'm', items: ['a', 'a'] }] },
    ],
    ['another schema', { ...good, schema: 'lgsp.feed.v2' }],
  ])('refuses %s, as the hub does', (_, feed) => {
    expect(check(feed)).toBe(false);
    const v = validateFeed(JSON.stringify(feed), rules, { ...origin, key: 'viettel' }, receivedAt);
    expect(v.ok).toBe(false);
  });

  it('is never stricter than the hub: every generated feed the hub accepts passes it', () => {
    let accepted = 0;
    fc.assert(
      fc.property(hostileFeed, (feed) => {
        const v = validateFeed(
          JSON.stringify(feed),
          rules,
          { ...origin, key: 'viettel' },
          receivedAt,
        );
        if (!v.ok) return true;
        accepted++;
        return check(feed) || (console.error(check.errors), false);
      }),
      { numRuns: 8_000, seed: 20261207 },
    );
    // The generator makes mostly plausible feeds: enough of them are accepted to mean something.
    expect(accepted).toBeGreaterThan(50);
  });
});
