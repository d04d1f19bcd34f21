/**
 * Demo feeds built from the seed documents (../shared/seeds, ../shared/notes/seed-figures.md).
 *
 * Published figures are reproduced from inputs: operators report counts that add up to the
 * published totals (the split between operators is ours), the statistics office reports the
 * denominators. Where a seed gives only a ratio, the denominator is an ASSUMPTION marked
 * below, chosen so that numerator / denominator gives the published figure.
 * Timestamps are fixed: a second `npm start` replays the same feeds as duplicates.
 */

const OPERATORS = ['viettel', 'vnpt', 'mobifone', 'vietnamobile'];

/** Splits a total into parts by weights; the parts add up to the total exactly. */
export function split(total, weights = [0.45, 0.27, 0.24, 0.04]) {
  const parts = weights.map((w) => Math.floor(total * w));
  parts[0] += total - parts.reduce((a, b) => a + b, 0);
  return parts;
}

/** Item sets per operator whose union has `union` items and `shared` of them in 2+ sets. */
export function itemSets(prefix, union, shared, weights = [0.45, 0.27, 0.24, 0.04]) {
  const ids = Array.from({ length: union }, (_, i) => `${prefix}${String(i + 1).padStart(4, '0')}`);
  const own = split(union - shared, weights);
  const sets = OPERATORS.map(() => []);
  let next = shared;
  own.forEach((n, op) => {
    sets[op].push(...ids.slice(next, next + n));
    next += n;
  });
  // each shared item goes to two operators, round robin
  for (let i = 0; i < shared; i++) {
    sets[i % 3].push(ids[i]);
    sets[(i % 3) + 1].push(ids[i]);
  }
  return sets;
}

function operatorFeeds(tag, period, sentAt, status, perOperator) {
  return OPERATORS.map((source, i) => ({
    schema: 'lgsp.feed.v1',
    feedId: `demo-${tag}-${source}-${period}`,
    source,
    sentAt,
    period,
    status,
    observations: perOperator(i, source).filter((o) => o.value !== undefined || o.items?.length),
  }));
}

function agencyFeed(source, tag, period, sentAt, observations, status = 'actual') {
  return {
    schema: 'lgsp.feed.v1',
    feedId: `demo-${tag}-${source}-${period}`,
    source,
    sentAt,
    period,
    status,
    observations,
  };
}

/** Ninh Bình (37), 2023-06-30: "Kế hoạch phát triển hạ tầng số tỉnh Ninh Bình 2023-2025". */
function ninhBinh() {
  const mbb = split(694_250); // 68.69 per 100 of 1,010,700
  const mobile = split(1_100_000); // ASSUMPTION: mobile subscriptions
  const smartphone = split(809_600); // 73.6 % of 1,100,000
  const fbb = split(208_406); // 20.62 per 100 of 1,010,700
  const ftth = split(210_840); // 70.28 % of 300,000 households
  const vilMbb = itemSets('37-V', 1_355, 400);
  const vilFtth = itemSets('37-V', 1_355, 250);
  const bts = itemSets('37-BTS', 1_000, 160); // 16 % of sites shared
  return [
    agencyFeed('gso', 'nb', '2023', '2024-03-01T09:00:00+07:00', [
      { area: '37', measure: 'population', value: 1_010_700 }, // as in the contract's example
      { area: '37', measure: 'adult_population', value: 760_000 }, // ASSUMPTION
      { area: '37', measure: 'households', value: 300_000 }, // ASSUMPTION
      { area: '37', measure: 'villages_total', value: 1_355 },
      { area: '37', measure: 'adults_with_smartphone', value: 676_400 }, // 89 % of 760,000
    ]),
    ...operatorFeeds('nb', '2023-06', '2023-07-05T08:00:00+07:00', 'actual', (i) => [
      { area: '37', measure: 'mbb_subscriptions', value: mbb[i] },
      { area: '37', measure: 'mobile_subscriptions', value: mobile[i] },
      { area: '37', measure: 'smartphone_subscriptions', value: smartphone[i] },
      { area: '37', measure: 'fbb_subscriptions', value: fbb[i] },
      { area: '37', measure: 'ftth_household_subscriptions', value: ftth[i] },
      { area: '37', measure: 'villages_mbb_covered', items: vilMbb[i] },
      { area: '37', measure: 'villages_ftth_covered', items: vilFtth[i] },
      { area: '37', measure: 'bts_sites', items: bts[i] },
    ]),
    agencyFeed('vnnic', 'nb', '2023-06', '2023-07-03T08:00:00+07:00', [
      { area: '37', measure: 'mbb_download_mbps', value: 42.5 },
      { area: '37', measure: 'fbb_download_mbps', value: 96.12 },
    ]),
  ];
}

/** Điện Biên (11), 2024 H1: "Báo cáo kết quả chuyển đổi số 6 tháng đầu năm 2024". */
function dienBien() {
  const mobile = split(565_000); // "hơn 565.000": more than
  const fbb = split(73_000); // "hơn 73.000"
  const ftth = split(72_800); // 52 % of 140,000 households
  const bts = itemSets('11-BTS', 920, 138); // 920 sites; sharing not published: 138 is ours
  const vil = itemSets('11-V', 1_719, 300); // 95.5 % of 1,800 villages
  return [
    agencyFeed('gso', 'db', '2024', '2024-03-01T09:00:00+07:00', [
      { area: '11', measure: 'population', value: 649_400 }, // ASSUMPTION: 565,000 is 87 per 100
      { area: '11', measure: 'households', value: 140_000 }, // ASSUMPTION
      { area: '11', measure: 'villages_total', value: 1_800 }, // ASSUMPTION
      { area: '11', measure: 'adult_population', value: 450_000 }, // ASSUMPTION
    ]),
    agencyFeed('gso', 'db', '2024-H1', '2024-07-10T09:00:00+07:00', [
      { area: '11', measure: 'adults_with_smartphone', value: 315_000 }, // 70 % of 450,000
    ]),
    ...operatorFeeds('db', '2024-06', '2024-07-05T08:00:00+07:00', 'actual', (i) => [
      { area: '11', measure: 'mobile_subscriptions', value: mobile[i], qualifier: '>' },
      { area: '11', measure: 'fbb_subscriptions', value: fbb[i], qualifier: '>' },
      { area: '11', measure: 'ftth_household_subscriptions', value: ftth[i] },
      { area: '11', measure: 'bts_sites', items: bts[i] },
      { area: '11', measure: 'villages_mbb_covered', items: vil[i] },
    ]),
  ];
}

/** Ninh Thuận (58), 2023 Q1, estimates ("ước thực hiện"): the quarterly report. */
function ninhThuan() {
  const mbb = split(252_906);
  const fbb = split(84_737);
  const mobile = split(49_375 + 596_062); // postpaid + prepaid; fixed lines are not mobile
  const bts = itemSets('58-BTS', 674, 220);
  const revenue = split(270_000_000_000); // about 270 bn VND for the quarter
  return [
    // The report divides by the 2021 average population: the hub says so in every event.
    agencyFeed('gso', 'nt', '2021', '2022-03-01T09:00:00+07:00', [
      { area: '58', measure: 'population', value: 596_049 },
    ]),
    ...operatorFeeds('nt', '2023-Q1', '2023-03-12T08:00:00+07:00', 'estimate', (i) => [
      { area: '58', measure: 'mbb_subscriptions', value: mbb[i] },
      { area: '58', measure: 'fbb_subscriptions', value: fbb[i] },
      { area: '58', measure: 'mobile_subscriptions', value: mobile[i] },
      { area: '58', measure: 'bts_sites', items: bts[i] },
    ]),
    ...[1, 2, 3].flatMap((m) =>
      operatorFeeds(`nt-rev`, `2023-0${m}`, `2023-0${m + 1}-05T08:00:00+07:00`, 'estimate', (i) => [
        {
          area: '58',
          measure: 'telecom_revenue_vnd',
          value: split(revenue[i], [0.32, 0.33, 0.35])[m - 1],
        },
      ]),
    ),
  ];
}

/**
 * Hà Nam (35) and Nam Định (36), 2023-H1: ILLUSTRATIVE figures, not from the seeds (none
 * covers them). With old Ninh Bình they formed today's Ninh Bình on 2025-07-01, whose
 * re-based history `npm start` shows beside its old units.
 */
export const REFORM_NEIGHBOURS = { 35: [878_000, 610_000], 36: [1_887_000, 1_290_000] };
function reformNeighbours() {
  const entries = Object.entries(REFORM_NEIGHBOURS);
  const mbb = entries.map(([, [, subscriptions]]) => split(subscriptions));
  return [
    agencyFeed(
      'gso',
      'reform',
      '2023',
      '2024-03-01T09:00:00+07:00',
      entries.map(([area, [population]]) => ({ area, measure: 'population', value: population })),
    ),
    ...operatorFeeds('reform', '2023-06', '2023-07-05T08:00:00+07:00', 'actual', (i) =>
      entries.map(([area], a) => ({ area, measure: 'mbb_subscriptions', value: mbb[a][i] })),
    ),
  ];
}

export function demoFeeds() {
  return [...ninhBinh(), ...dienBien(), ...ninhThuan(), ...reformNeighbours()];
}

/**
 * What `npm start` shows of the 2025 reorganisation: today's Ninh Bình (2025 lists) re-based
 * over 2023-H1, beside the three old provinces it was formed from.
 */
export const REBASED_DEMO = {
  kpi: 'MBB_SUB_P100',
  area: '37',
  period: '2023-H1',
  from: ['35', '36', '37'],
};

/**
 * The table `npm start` prints: each row a KPI the seeds publish, with the published figure
 * and the value the hub must recompute from the inputs above; `why`: where the two differ, or
 * where the value rests on the demo's own assumption.
 */
export const DEMO_TABLE = [
  ['37', '2023-H1', 'MBB_SUB_P100', '68.69 /100', 68.69],
  ['37', '2023-H1', 'SMP_SUB_SHARE', '73.6 %', 73.6],
  ['37', '2023', 'ADULT_SMP_RATE', '89 %', 89],
  ['37', '2023-H1', 'FBB_SUB_P100', '20.62 /100', 20.62],
  ['37', '2023-H1', 'HH_FTTH_RATE', '70.28 %', 70.28],
  ['37', '2023-H1', 'VIL_MBB_COV', '1355/1355', 100],
  ['37', '2023-H1', 'VIL_FTTH_COV', '1355/1355', 100],
  ['37', '2023-H1', 'BTS_SITE_SHARE', '16 %', 16],
  ['37', '2023-06', 'MBB_DL_MBPS', '42.5 Mbit/s', 42.5],
  ['37', '2023-06', 'FBB_DL_MBPS', '96.12 Mbit/s', 96.12],
  [
    '11',
    '2024-H1',
    'MOB_SUB_P100',
    '87 /100 (>565,000)',
    87.0,
    "the population (649,400) is the demo's: the report gives none",
  ],
  ['11', '2024-H1', 'HH_FTTH_RATE', '52 %', 52],
  ['11', '2024-H1', 'VIL_MBB_COV', '95.5 %', 95.5],
  ['11', '2024-H1', 'ADULT_SMP_RATE', '70 %', 70],
  [
    '11',
    '2024-H1',
    'BTS_SITE_SHARE',
    '920 sites',
    15,
    "the report counts 920 sites, not the shared ones: 138 shared is the demo's",
  ],
  [
    '58',
    '2023-Q1',
    'MBB_SUB_P100',
    '(97.8: all broadband)',
    42.43,
    "the report's 97.8 per 100 does not follow from its own inputs; mobile broadband alone is 252,906 / 596,049",
  ],
  [
    '58',
    '2023-Q1',
    'FBB_SUB_P100',
    '(14.22 from inputs)',
    14.22,
    'the report gives no fixed-broadband density: 84,737 / 596,049',
  ],
  [
    '58',
    '2023-Q1',
    'MOB_SUB_P100',
    '(116.3: with fixed)',
    108.29,
    "the report's 116.3 counts fixed lines as phones; mobile (postpaid + prepaid) alone is 645,437 / 596,049",
  ],
  ['58', '2023-Q1', 'BTS_SITE_SHARE', '220 of 674', 32.64],
  ['58', '2023-Q1', 'TELECOM_REVENUE', '~270 bn VND', 270_000_000_000],
].map(([area, period, kpi, published, expected, why]) => ({
  area,
  period,
  kpi,
  published,
  expected,
  ...(why ? { why } : {}),
}));

/** The provincial reports `npm start` points to: the two seed reports the demo's feeds follow. */
export const REPORT_DEMOS = [
  { area: '11', period: '2024-H1', seed: 'Báo cáo kết quả chuyển đổi số 6 tháng đầu năm 2024' },
  { area: '58', period: '2023-Q1', seed: 'Báo cáo quý I năm 2023 (ước thực hiện)' },
];
