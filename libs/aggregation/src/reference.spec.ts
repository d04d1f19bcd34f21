import {
  AdminUnits,
  DEFAULT_SOURCES,
  type KpiKey,
  mustParsePeriod,
  type Observation,
  SourceRegistry,
} from '@app/catalogue';
import {
  affectedKeys,
  computeKpi,
  kpiChanged,
  provincesRead,
  yearToDateTiling,
} from './reference.js';

const units = AdminUnits.load('data/admin-units');
const ctx = { units, registry: new SourceRegistry() };

let seq = 0;
function obs(
  source: string,
  measure: string,
  area: string,
  period: string,
  v: number | string[],
  extra: Partial<Observation> = {},
): Observation {
  seq++;
  return {
    source,
    measure,
    area,
    period,
    ...(Array.isArray(v) ? { items: v } : { value: v }),
    status: 'actual',
    feedId: `${source}-${seq}`,
    sentAt: '2024-07-05T01:00:00.000Z',
    ...extra,
  };
}
const key = (kpi: string, area: string, period: string, bs: '2008' | '2025' = '2008'): KpiKey => ({
  kpi,
  area,
  period,
  bs,
});
const villages = (prefix: string, from: number, to: number): string[] =>
  Array.from({ length: to - from + 1 }, (_, i) => `${prefix}-${String(from + i).padStart(3, '0')}`);

describe('Ninh Thuận 2023-Q1, recomputed from the published inputs (golden values)', () => {
  const feed: Observation[] = [
    obs('viettel', 'mbb_subscriptions', '58', '2023-Q1', 252_906, { status: 'estimate' }),
    obs('viettel', 'fbb_subscriptions', '58', '2023-Q1', 84_737, { status: 'estimate' }),
    obs('viettel', 'mobile_subscriptions', '58', '2023-Q1', 49_375 + 596_062, {
      status: 'estimate',
    }),
    obs('gso', 'population', '58', '2021', 596_049),
    obs('viettel', 'bts_sites', '58', '2023-Q1', [
      ...villages('S', 1, 674).slice(0, 220),
      ...villages('S', 1, 674).slice(220),
    ]),
    obs('vnpt', 'bts_sites', '58', '2023-Q1', villages('S', 1, 220)),
  ];

  it('computes MBB subscriptions per 100 inhabitants as 42.43', () => {
    const r = computeKpi(key('MBB_SUB_P100', '58', '2023-Q1'), feed, ctx);
    expect(r.value).toBeCloseTo(42.43, 2);
    expect(r.numerator).toBe(252_906);
    expect(r.denominator).toBe(596_049);
  });

  it('computes FBB per 100 as 14.22 and mobile per 100 as 108.29, not the published 116.3', () => {
    expect(computeKpi(key('FBB_SUB_P100', '58', '2023-Q1'), feed, ctx).value).toBeCloseTo(14.22, 2);
    expect(computeKpi(key('MOB_SUB_P100', '58', '2023-Q1'), feed, ctx).value).toBeCloseTo(
      108.29,
      2,
    );
  });

  it('computes BTS site sharing as 220 shared of 674 sites, 32.64 %', () => {
    const r = computeKpi(key('BTS_SITE_SHARE', '58', '2023-Q1'), feed, ctx);
    expect(r.numerator).toBe(220);
    expect(r.denominator).toBe(674);
    expect(r.value).toBeCloseTo(32.64, 2);
  });

  it('says the 2023 figure is divided by the 2021 population and is not final', () => {
    const r = computeKpi(key('MBB_SUB_P100', '58', '2023-Q1'), feed, ctx);
    expect(r.denominatorPeriod).toBe('2021');
    expect(r.status).toBe('provisional');
    expect(r.note).toMatch(/population taken from 2021/);
    expect(r.completeness.reported).not.toContain('gso');
  });
});

describe('ratios', () => {
  it('rolls two districts at 68.69 (1.0 M people) and 42.43 (0.6 M) up to 58.84, not 55.56', () => {
    const feed = [
      obs('viettel', 'mbb_subscriptions', '370', '2024', 686_900),
      obs('viettel', 'mbb_subscriptions', '372', '2024', 254_580),
      obs('gso', 'population', '370', '2024', 1_000_000),
      obs('gso', 'population', '372', '2024', 600_000),
    ];
    expect(computeKpi(key('MBB_SUB_P100', '370', '2024'), feed, ctx).value).toBeCloseTo(68.69, 2);
    expect(computeKpi(key('MBB_SUB_P100', '372', '2024'), feed, ctx).value).toBeCloseTo(42.43, 2);
    const province = computeKpi(key('MBB_SUB_P100', '37', '2024'), feed, ctx);
    expect(province.value).toBeCloseTo(58.84, 2);
    expect(province.numerator).toBe(941_480);
    expect(province.denominator).toBe(1_600_000);
  });

  it('gives no value and says why when the denominator is zero or missing', () => {
    const zero = computeKpi(
      key('FBB_SUB_P100', '37', '2024'),
      [
        obs('vnpt', 'fbb_subscriptions', '37', '2024', 5),
        obs('gso', 'population', '37', '2024', 0),
      ],
      ctx,
    );
    expect(zero.value).toBeNull();
    expect(zero.note).toMatch(/zero/);
    const none = computeKpi(
      key('FBB_SUB_P100', '37', '2024'),
      [obs('vnpt', 'fbb_subscriptions', '37', '2024', 5)],
      ctx,
    );
    expect(none.value).toBeNull();
    expect(none.numerator).toBe(5);
    expect(none.note).toMatch(/no population/);
  });
});

describe('unions of item sets', () => {
  it('counts a village covered by two operators once: 90 and 60 with 55 shared is 95 %', () => {
    // X covers 001..090, Y covers 036..095: 55 in both, 95 distinct.
    const feed = [
      obs('viettel', 'villages_mbb_covered', '37', '2024', villages('V', 1, 90)),
      obs('vnpt', 'villages_mbb_covered', '37', '2024', villages('V', 36, 95)),
      obs('gso', 'villages_total', '37', '2024', 100),
    ];
    const r = computeKpi(key('VIL_MBB_COV', '37', '2024'), feed, ctx);
    expect(r.numerator).toBe(95);
    expect(r.value).toBeCloseTo(95, 10);
  });

  it('unions communes into their province', () => {
    const feed = [
      obs('viettel', 'villages_ftth_covered', '14386', '2024', ['a', 'b']),
      obs('viettel', 'villages_ftth_covered', '14389', '2024', ['c']),
      obs('gso', 'villages_total', '37', '2024', 4),
    ];
    expect(computeKpi(key('VIL_FTTH_COV', '37', '2024'), feed, ctx).value).toBe(75);
  });
});

describe('over time', () => {
  it('takes a stock at the latest month of the quarter, never April + May + June', () => {
    const feed = [
      obs('viettel', 'mbb_subscriptions', '37', '2024-04', 100),
      obs('viettel', 'mbb_subscriptions', '37', '2024-05', 110),
      obs('viettel', 'mbb_subscriptions', '37', '2024-06', 120),
      obs('gso', 'population', '37', '2024', 1000),
    ];
    expect(computeKpi(key('MBB_SUB_P100', '37', '2024-Q2'), feed, ctx).numerator).toBe(120);
    expect(computeKpi(key('MBB_SUB_P100', '37', '2024'), feed, ctx).numerator).toBe(120);
    expect(computeKpi(key('MBB_SUB_P100', '37', '2024-H1'), feed, ctx).numerator).toBe(120);
  });

  it('takes each area at its own latest month when areas report different months', () => {
    const feed = [
      obs('viettel', 'mbb_subscriptions', '370', '2024-04', 100),
      obs('viettel', 'mbb_subscriptions', '372', '2024-04', 50),
      obs('viettel', 'mbb_subscriptions', '372', '2024-06', 70),
    ];
    expect(computeKpi(key('MBB_SUB_P100', '37', '2024-Q2'), feed, ctx).numerator).toBe(170);
  });

  it('adds up a flow over its months', () => {
    const feed = [
      obs('viettel', 'telecom_revenue_vnd', '58', '2023-01', 90e9),
      obs('viettel', 'telecom_revenue_vnd', '58', '2023-02', 85e9),
      obs('viettel', 'telecom_revenue_vnd', '58', '2023-03', 95e9),
    ];
    const r = computeKpi(key('TELECOM_REVENUE', '58', '2023-Q1'), feed, ctx);
    expect(r.value).toBe(270e9);
    expect(r.denominator).toBeNull();
  });

  it("lets a source's direct quarterly report stand over its months", () => {
    const feed = [
      obs('viettel', 'telecom_revenue_vnd', '58', '2023-01', 90e9),
      obs('viettel', 'telecom_revenue_vnd', '58', '2023-Q1', 271e9),
    ];
    expect(computeKpi(key('TELECOM_REVENUE', '58', '2023-Q1'), feed, ctx).value).toBe(271e9);
  });

  it('uses a yearly population for every month and quarter of that year', () => {
    const feed = [
      obs('viettel', 'mbb_subscriptions', '37', '2024-06', 500),
      obs('gso', 'population', '37', '2024', 1000),
      obs('gso', 'population', '37', '2023', 900),
    ];
    const r = computeKpi(key('MBB_SUB_P100', '37', '2024-06'), feed, ctx);
    expect(r.value).toBe(50);
    expect(r.denominatorPeriod).toBe('2024');
  });

  it('prefers the period’s own reference value over its year', () => {
    const feed = [
      obs('viettel', 'mbb_subscriptions', '37', '2024-06', 500),
      obs('gso', 'population', '37', '2024', 1000),
      obs('gso', 'population', '37', '2024-H1', 800),
    ];
    expect(computeKpi(key('MBB_SUB_P100', '37', '2024-06'), feed, ctx).denominatorPeriod).toBe(
      '2024-H1',
    );
  });
});

describe('over areas', () => {
  it("lets a source's direct province report stand over its communes", () => {
    const feed = [
      obs('viettel', 'mbb_subscriptions', '37', '2024', 1000),
      obs('viettel', 'mbb_subscriptions', '14386', '2024', 10),
      obs('vnpt', 'mbb_subscriptions', '14386', '2024', 7),
    ];
    expect(computeKpi(key('MBB_SUB_P100', '37', '2024'), feed, ctx).numerator).toBe(1007);
  });

  it('rolls Hà Nam, Nam Định and old Ninh Bình (H1 2025) into the new Ninh Bình for 2025', () => {
    const feed = [
      obs('viettel', 'mbb_subscriptions', '35', '2025-06', 100),
      obs('viettel', 'mbb_subscriptions', '36', '2025-06', 200),
      obs('viettel', 'mbb_subscriptions', '37', '2025-05', 300),
      obs('gso', 'population', '35', '2024', 1000),
      obs('gso', 'population', '36', '2024', 2000),
      obs('gso', 'population', '37', '2024', 1000),
    ];
    const r = computeKpi(key('MBB_SUB_P100', '37', '2025', '2025'), feed, ctx);
    expect(r.numerator).toBe(600);
    expect(r.denominator).toBe(4000);
    expect(r.denominatorPeriod).toBe('2024');
    // after the reform the new province's own report is the latest and stands
    const later = [...feed, obs('viettel', 'mbb_subscriptions', '37', '2025-12', 650)];
    expect(computeKpi(key('MBB_SUB_P100', '37', '2025', '2025'), later, ctx).numerator).toBe(650);
  });

  it('does not take the old Ninh Bình (37 before the reform) for the new one in 2025-H2', () => {
    const feed = [obs('viettel', 'mbb_subscriptions', '37', '2025-06', 300)];
    expect(computeKpi(key('MBB_SUB_P100', '37', '2025-H2', '2025'), feed, ctx).hasData).toBe(false);
  });
});

describe('one unit per code across the reform (contract v1.1)', () => {
  it("never divides new Ninh Bình by old Ninh Bình's population alone", () => {
    const feed = [
      obs('viettel', 'mbb_subscriptions', '37', '2026-10', 12_500),
      obs('gso', 'population', '37', '2023', 1_010_700),
    ];
    const r = computeKpi(key('MBB_SUB_P100', '37', '2026-10', '2025'), feed, ctx);
    expect(r.value).toBeNull();
    expect(r.denominator).toBeNull();
    expect(r.note).toBe('no population for 37 in or before 2026-10: none for old unit(s) 35, 36');
  });

  it("takes the sum of every old unit's latest value, and says so", () => {
    const feed = [
      obs('viettel', 'mbb_subscriptions', '37', '2026-10', 12_500),
      obs('gso', 'population', '35', '2024', 880_000),
      obs('gso', 'population', '36', '2023', 1_880_000),
      obs('gso', 'population', '37', '2024', 1_010_700),
    ];
    const r = computeKpi(key('MBB_SUB_P100', '37', '2026-10', '2025'), feed, ctx);
    expect(r.denominator).toBe(880_000 + 1_880_000 + 1_010_700);
    expect(r.value).toBeCloseTo((12_500 / 3_770_700) * 100, 10);
    expect(r.denominatorPeriod).toBe('2023');
    expect(r.note).toBe('denominator population: the sum of old units 35, 36, 37, taken from 2023');
    expect(r.status).toBe('provisional');
  });

  it('keeps the values of a province the reform left alone (Thanh Hóa, 38)', () => {
    const feed = [
      obs('viettel', 'mbb_subscriptions', '38', '2026-10', 30_000),
      obs('gso', 'population', '38', '2024', 3_760_000),
    ];
    const r = computeKpi(key('MBB_SUB_P100', '38', '2026-10', '2025'), feed, ctx);
    expect(r.denominator).toBe(3_760_000);
    expect(r.note).toBe('denominator population taken from 2024');
  });
});

describe("re-based history: today's provinces before the reform", () => {
  it('sums the old provinces, recomputes the ratio and keeps a site two of them share', () => {
    const feed = [
      obs('viettel', 'mbb_subscriptions', '35', '2024', 600_000),
      obs('viettel', 'mbb_subscriptions', '36', '2024', 1_300_000),
      obs('vnpt', 'mbb_subscriptions', '37', '2024', 700_000),
      obs('gso', 'population', '35', '2024', 880_000),
      obs('gso', 'population', '36', '2024', 1_880_000),
      obs('gso', 'population', '37', '2024', 1_010_700),
      obs('viettel', 'bts_sites', '35', '2024', ['S-1', 'S-2']),
      obs('vnpt', 'bts_sites', '36', '2024', ['S-2', 'S-3']),
    ];
    const mbb = computeKpi(key('MBB_SUB_P100', '37', '2024', '2025'), feed, ctx);
    expect(mbb.numerator).toBe(2_600_000);
    expect(mbb.denominator).toBe(3_770_700);
    expect(mbb.value).toBeCloseTo((2_600_000 / 3_770_700) * 100, 10);
    expect(mbb.denominatorPeriod).toBe('2024');
    expect(mbb.note).toBeUndefined();
    const bts = computeKpi(key('BTS_SITE_SHARE', '37', '2024', '2025'), feed, ctx);
    expect([bts.numerator, bts.denominator]).toEqual([1, 3]);
    // old Ninh Bình alone is another unit, with its own figures
    expect(computeKpi(key('MBB_SUB_P100', '37', '2024'), feed, ctx).numerator).toBe(700_000);
  });

  it('has no value while one old province has no population, and names it', () => {
    const feed = [
      obs('viettel', 'mbb_subscriptions', '35', '2024-Q2', 600_000),
      obs('gso', 'population', '35', '2024', 880_000),
      obs('gso', 'population', '37', '2023', 1_010_700),
    ];
    const r = computeKpi(key('MBB_SUB_P100', '37', '2024-Q2', '2025'), feed, ctx);
    expect(r.value).toBeNull();
    expect(r.note).toBe('no population for 37 in or before 2024-Q2: none for old unit(s) 36');
  });
});

describe('statistics, status and lineage', () => {
  it('publishes a median speed only for the area and period it was reported for', () => {
    const feed = [obs('vnnic', 'mbb_download_mbps', '37', '2023-06', 42.5)];
    expect(computeKpi(key('MBB_DL_MBPS', '37', '2023-06'), feed, ctx).value).toBe(42.5);
    expect(computeKpi(key('MBB_DL_MBPS', '37', '2023-Q2'), feed, ctx).hasData).toBe(false);
  });

  it('is final only when every expected source reported actual figures for the period', () => {
    const operators = DEFAULT_SOURCES.filter((s) => s.kind === 'operator').map((s) => s.id);
    const feed = [
      ...operators.map((s) => obs(s, 'fbb_subscriptions', '11', '2024-H1', 18_250)),
      obs('gso', 'population', '11', '2024', 640_000),
    ];
    const all = computeKpi(key('FBB_SUB_P100', '11', '2024-H1'), feed, ctx);
    expect(all.status).toBe('final');
    expect(all.completeness).toEqual({
      expected: ['gso', 'mobifone', 'vietnamobile', 'viettel', 'vnpt'],
      reported: ['gso', 'mobifone', 'vietnamobile', 'viettel', 'vnpt'],
    });
    const missing = computeKpi(key('FBB_SUB_P100', '11', '2024-H1'), feed.slice(1), ctx);
    expect(missing.status).toBe('provisional');
    expect(missing.completeness.reported).not.toContain(operators[0]);
    const estimate = computeKpi(
      key('FBB_SUB_P100', '11', '2024-H1'),
      [
        ...feed.slice(1),
        obs(operators[0]!, 'fbb_subscriptions', '11', '2024-H1', 1, { status: 'estimate' }),
      ],
      ctx,
    );
    expect(estimate.status).toBe('provisional');
  });

  it('carries the qualifier of "hơn 565.000" into the lineage', () => {
    const feed = [
      obs('viettel', 'mobile_subscriptions', '11', '2024-H1', 565_000, {
        qualifier: '>',
        feedId: 'vt-1',
      }),
    ];
    const r = computeKpi(key('MOB_SUB_P100', '11', '2024-H1'), feed, ctx);
    expect(r.inputs).toEqual([
      { source: 'viettel', feedId: 'vt-1', measure: 'mobile_subscriptions', qualifier: '>' },
    ]);
  });
});

describe('affectedKeys', () => {
  it('names every enclosing area and period of a commune-month for the KPIs reading the measure', () => {
    const keys = affectedKeys({ measure: 'bts_sites', area: '14386', period: '2024-06' }, units);
    const names = keys.map((k) => `${k.kpi}|${k.bs}:${k.area}|${k.period}`);
    // commune, district, old province, and the re-based history of new Ninh Bình and of the
    // 2025 commune(s) the commune went into; four periods
    const into = units.newCommunesOf('14386');
    expect(into.length).toBeGreaterThan(0);
    expect(names).toHaveLength((4 + into.length) * 4);
    expect(names).toContain(`BTS_SITE_SHARE|2025:${into[0]}|2024-06`);
    expect(names).toContain('BTS_SITE_SHARE|2008:14386|2024-06');
    expect(names).toContain('BTS_SITE_SHARE|2008:37|2024');
    expect(names).toContain('BTS_SITE_SHARE|2025:37|2024');
  });

  it('sends January-June 2025 into the 2025 province for the year 2025', () => {
    const keys = affectedKeys(
      { measure: 'fbb_subscriptions', area: '36', period: '2025-03' },
      units,
    );
    expect(keys).toContainEqual({ kpi: 'FBB_SUB_P100', bs: '2025', area: '37', period: '2025' });
    expect(keys).toContainEqual({ kpi: 'FBB_SUB_P100', bs: '2008', area: '36', period: '2025-H1' });
  });
});

describe('kpiChanged', () => {
  const base = computeKpi(
    key('MBB_SUB_P100', '37', '2024'),
    [
      obs('viettel', 'mbb_subscriptions', '37', '2024', 10),
      obs('gso', 'population', '37', '2024', 100),
    ],
    ctx,
  );
  it('wants an event for a new key with data, and none for a key that never had any', () => {
    expect(kpiChanged(undefined, base)).toBe(true);
    expect(kpiChanged(undefined, { ...base, hasData: false })).toBe(false);
  });
  it('wants no event when only the lineage changed', () => {
    expect(kpiChanged(base, { ...base, inputs: [] })).toBe(false);
  });
  it('wants an event when the value, status or completeness changed', () => {
    expect(kpiChanged(base, { ...base, value: 11, numerator: 11 })).toBe(true);
    expect(kpiChanged(base, { ...base, status: 'final' })).toBe(true);
    expect(kpiChanged(base, { ...base, completeness: { expected: [], reported: [] } })).toBe(true);
  });
});

describe('provincesRead', () => {
  it('reads the old provinces too for a 2025 province, whose history is in 2008 codes', () => {
    expect(provincesRead(key('MBB_SUB_P100', '37', '2026', '2025'), units).sort()).toEqual([
      '2008:35',
      '2008:36',
      '2008:37',
      '2025:37',
    ]);
    expect(provincesRead(key('MBB_SUB_P100', '14386', '2024'), units)).toEqual(['2008:37']);
  });
});

describe('year to date', () => {
  it('gives a flow KPI its year to date: January to April of 100 a month is 400', () => {
    const obs: Observation[] = [1, 2, 3, 4].map((m) => ({
      source: 'viettel',
      measure: 'telecom_revenue_vnd',
      area: '58',
      period: `2023-0${m}`,
      value: 100,
      status: 'actual',
      feedId: `f${m}`,
      sentAt: '2023-06-01T00:00:00Z',
    }));
    const april = computeKpi(
      { kpi: 'TELECOM_REVENUE', bs: '2008', area: '58', period: '2023-04' },
      obs,
      ctx,
    );
    expect(april.value).toBe(100);
    expect(april.yearToDate).toBe(400);
  });

  it('tiles January to the end of a period with the largest standard periods', () => {
    const codes = (p: string) => yearToDateTiling(mustParsePeriod(p)).map((x) => x.code);
    expect(codes('2024-11')).toEqual(['2024-H1', '2024-Q3', '2024-10', '2024-11']);
    expect(codes('2024-Q2')).toEqual(['2024-H1']);
    expect(codes('2024-H2')).toEqual(['2024']);
    expect(codes('2024-02')).toEqual(['2024-01', '2024-02']);
  });
});
