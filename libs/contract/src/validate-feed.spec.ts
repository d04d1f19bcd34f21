import { AdminUnits, DEFAULT_SOURCES, SourceRegistry } from '@app/catalogue';
import { FEED_ERROR } from './errors.js';
import { feedRules, validateFeed } from './validate-feed.js';

const units = AdminUnits.load('data/admin-units');
const rules = feedRules(units, new SourceRegistry());
const origin = { channel: 'kafka' as const, topic: 'lgsp.feeds.v1', partition: 0, offset: '7' };

const good = {
  schema: 'lgsp.feed.v1',
  feedId: 'viettel-2024-06-37-a',
  source: 'viettel',
  sentAt: '2024-07-05T08:00:00+07:00',
  period: '2024-06',
  status: 'actual',
  observations: [
    { area: '37', measure: 'mbb_subscriptions', value: 412000 },
    { area: '37', measure: 'villages_mbb_covered', items: ['13654-01', '13654-02'] },
    { area: '37', measure: 'mobile_subscriptions', value: 565000, qualifier: '>' },
  ],
};
const check = (feed: unknown, key?: string) =>
  validateFeed(JSON.stringify(feed), rules, { ...origin, ...(key ? { key } : {}) });
const codes = (v: ReturnType<typeof check>) =>
  v.ok ? [] : v.errors.map((e) => `${e.code} ${e.path}`);

describe('validateFeed', () => {
  it('accepts the contract example and normalises sentAt to UTC', () => {
    const v = check(good, 'viettel');
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.feed.sentAt).toBe('2024-07-05T01:00:00.000Z');
    expect(v.feed.observations[2]).toEqual({
      area: '37',
      measure: 'mobile_subscriptions',
      value: 565000,
      qualifier: '>',
    });
  });

  it('reports every error of a bad feed, not only the first', () => {
    const v = check({
      ...good,
      feedId: 'has spaces',
      sentAt: '2024-07-05 08:00',
      period: '2024-13',
      observations: [
        { area: '37', measure: 'mbb_subscriptions', value: -1 },
        { area: '37', measure: 'mbb_subscriptons', value: 5 },
        { area: '37', measure: 'bts_sites', value: 5 },
        { area: '37', measure: 'fbb_subscriptions', value: 1, items: ['a'] },
      ],
      extra: true,
    });
    expect(codes(v)).toEqual(
      expect.arrayContaining([
        'INVALID_FIELD feedId',
        'INVALID_FIELD sentAt',
        'INVALID_FIELD period',
        'UNKNOWN_FIELD extra',
        'INVALID_FIELD observations[0].value',
        'UNKNOWN_MEASURE observations[1].measure',
        'VALUE_KIND_MISMATCH observations[2]',
        'VALUE_KIND_MISMATCH observations[3]',
      ]),
    );
    expect(v.ok ? '' : v.errors.find((e) => e.code === FEED_ERROR.unknownMeasure)?.message).toMatch(
      /did you mean "mbb_subscriptions"/,
    );
  });

  it('rejects an area code that does not exist in the boundary set of the period', () => {
    // 35 (Hà Nam) existed until 2025-06-30; from 2025-07 it is part of Ninh Bình 37.
    expect(
      check({
        ...good,
        period: '2025-06',
        observations: [{ area: '35', measure: 'mbb_subscriptions', value: 1 }],
      }).ok,
    ).toBe(true);
    const after = check({
      ...good,
      period: '2025-09',
      observations: [{ area: '35', measure: 'mbb_subscriptions', value: 1 }],
    });
    expect(codes(after)).toEqual(['UNKNOWN_AREA observations[0].area']);
  });

  it('rejects, as not authorised, a source that is not registered or a measure it may not report', () => {
    const unknown = check({ ...good, source: 'viettell' });
    expect(codes(unknown)).toContain('NOT_AUTHORISED source');
    expect(unknown.ok ? '' : unknown.errors[0]!.message).toMatch(/did you mean "viettel"/);
    expect(
      codes(check({ ...good, observations: [{ area: '37', measure: 'population', value: 1 }] })),
    ).toEqual(['NOT_AUTHORISED observations[0].measure']);
  });

  it('rejects a suspended source, and an area outside the provinces it is registered for', () => {
    const registry = new SourceRegistry(
      DEFAULT_SOURCES.map((s) =>
        s.id === 'vnpt'
          ? { ...s, active: false }
          : s.id === 'viettel'
            ? { ...s, areas: ['01'] }
            : s,
      ),
    );
    const r = feedRules(units, registry);
    const suspended = validateFeed(JSON.stringify({ ...good, source: 'vnpt' }), r, origin);
    expect(suspended.ok ? '' : suspended.errors[0]!.message).toMatch(/suspended/);
    const outside = validateFeed(JSON.stringify(good), r, origin);
    expect(codes(outside)).toEqual([
      'NOT_AUTHORISED observations[0].area',
      'NOT_AUTHORISED observations[1].area',
      'NOT_AUTHORISED observations[2].area',
    ]);
  });

  it('rejects a record whose key names another source', () => {
    expect(codes(check(good, 'vnpt'))).toEqual(['NOT_AUTHORISED source']);
  });

  it("rejects a feed on a source's own channel that claims another source", () => {
    const v = validateFeed(JSON.stringify({ ...good, source: 'vnpt' }), rules, {
      ...origin,
      topic: 'lgsp.feeds.v1.viettel',
      identity: 'viettel',
    });
    expect(v.ok ? [] : v.errors.map((e) => e.message)).toEqual([
      'this channel belongs to source "viettel"; it may not send feeds of "vnpt"',
    ]);
  });

  it("maps a source's own measure names, units and area names through its profile", () => {
    const registry = new SourceRegistry(
      DEFAULT_SOURCES.map((s) =>
        s.id === 'viettel'
          ? {
              ...s,
              mapping: { measures: { TB_BRDD: { measure: 'mbb_subscriptions', scale: 1000 } } },
            }
          : s,
      ),
    );
    const v = validateFeed(
      JSON.stringify({
        ...good,
        observations: [
          { area: 'NINH BINH', measure: 'TB_BRDD', value: 412.5 },
          { area: 'Tỉnh Ninh Bình', measure: 'TB_DD', value: 1 },
        ],
      }),
      feedRules(units, registry),
      origin,
    );
    expect(codes(v)).toEqual(['UNKNOWN_MEASURE observations[1].measure']);
    const ok = validateFeed(
      JSON.stringify({
        ...good,
        observations: [{ area: 'NINH BINH', measure: 'TB_BRDD', value: 412.5 }],
      }),
      feedRules(units, registry),
      origin,
    );
    expect(ok.ok && ok.feed.observations).toEqual([
      { area: '37', measure: 'mbb_subscriptions', value: 412500 },
    ]);
  });

  it('rejects the same measure and area twice in one feed', () => {
    const v = check({ ...good, observations: [good.observations[0], good.observations[0]] });
    expect(codes(v)).toEqual(['DUPLICATE_OBSERVATION observations[1]']);
  });

  it('accepts null as a retraction', () => {
    const v = check({
      ...good,
      observations: [{ area: '37', measure: 'mbb_subscriptions', value: null }],
    });
    expect(v.ok && v.feed.observations[0]).toEqual({
      area: '37',
      measure: 'mbb_subscriptions',
      value: null,
    });
  });

  it('rejects what is not JSON, NaN, Infinity and invalid UTF-8 with a clear error', () => {
    for (const raw of ['{', '{"value": NaN}', '[1]', 'null']) {
      const v = validateFeed(raw, rules, origin);
      expect(v.ok ? '' : v.errors[0]!.code).toBe('MALFORMED_JSON');
    }
    const big = validateFeed(
      JSON.stringify({
        ...good,
        observations: [{ area: '37', measure: 'mbb_subscriptions', value: 0 }],
      }).replace('"value":0', '"value":1e999'),
      rules,
      origin,
    );
    expect(codes(big)).toEqual(['INVALID_FIELD observations[0].value']);
    const v = validateFeed(new Uint8Array([0x7b, 0xff, 0x7d]), rules, origin);
    expect(v.ok ? '' : v.errors[0]!.message).toMatch(/UTF-8/);
  });

  it('rejects more than 10,000 observations', () => {
    const many = Array.from({ length: 10_001 }, (_, i) => ({
      area: '37',
      measure: 'mbb_subscriptions',
      value: i,
    }));
    expect(codes(check({ ...good, observations: many }))).toContain('INVALID_FIELD observations');
  });

  describe('time sanity (contract v1.1)', () => {
    const at = new Date('2026-12-07T10:00:00Z');
    const verdict = (patch: Record<string, unknown>) =>
      validateFeed(JSON.stringify({ ...good, ...patch }), rules, { ...origin, key: 'viettel' }, at);

    it('refuses a sentAt more than 15 minutes after receipt, and takes one 14 minutes after', () => {
      const ahead = verdict({ sentAt: '2026-12-07T17:16:00+07:00' });
      expect(codes(ahead)).toEqual(['SENT_AT_IN_FUTURE sentAt']);
      expect(ahead.ok ? '' : ahead.errors[0]!.message).toContain(
        "check the sending system's clock",
      );
      expect(verdict({ sentAt: '2026-12-07T17:14:00+07:00' }).ok).toBe(true);
      expect(codes(verdict({ sentAt: '2098-01-01T00:00:00Z' }))).toEqual([
        'SENT_AT_IN_FUTURE sentAt',
      ]);
    });

    it('refuses a period that begins after the month of receipt, in Vietnam time', () => {
      expect(codes(verdict({ period: '2099-01' }))).toEqual(['PERIOD_IN_FUTURE period']);
      expect(codes(verdict({ period: '2027' }))).toEqual(['PERIOD_IN_FUTURE period']);
      expect(verdict({ period: '2026-12' }).ok).toBe(true);
      expect(verdict({ period: '2026-Q4' }).ok).toBe(true);
      // 2026-11-30T18:00Z is 1 December 01:00 in Vietnam: December has begun there.
      const december = validateFeed(
        JSON.stringify({ ...good, period: '2026-12', sentAt: '2026-11-30T18:00:00Z' }),
        rules,
        { ...origin, key: 'viettel' },
        new Date('2026-11-30T18:00:00Z'),
      );
      expect(december.ok).toBe(true);
    });

    it('refuses a period outside the years the hub knows instead of failing later', () => {
      expect(codes(verdict({ period: '1899' }))).toEqual(['INVALID_FIELD period']);
    });
  });

  it('gives "did you mean" hints to the first 5 unknown names of a feed only', () => {
    const observations = Array.from({ length: 10_000 }, (_, i) => ({
      area: '37',
      measure: `mbb_subscription_${i}`,
      value: 1,
    }));
    const v = check({ ...good, observations }, 'viettel');
    const unknown = v.ok ? [] : v.errors.filter((e) => e.code === 'UNKNOWN_MEASURE');
    expect(unknown).toHaveLength(10_000);
    expect(unknown.filter((e) => e.message.includes('did you mean'))).toHaveLength(5);
  });
});
