/**
 * The indicator catalogue of contract v1: what sources report (measures) and what the hub
 * publishes (KPIs), with the semantics that decide how figures combine.
 */

/** How values of one measure combine across sources and areas. */
export type MeasureKind = 'count' | 'amount' | 'item_set' | 'statistic';
/** How values combine over time. */
export type TimeSemantics = 'stock' | 'flow' | 'reference' | 'none';
export type SourceKind = 'operator' | 'agency';

export interface MeasureDef {
  readonly code: string;
  readonly kind: MeasureKind;
  readonly time: TimeSemantics;
  /** Which kind of source may report it. */
  readonly reportedBy: SourceKind;
  readonly description: string;
}

const m = (
  code: string,
  kind: MeasureKind,
  time: TimeSemantics,
  reportedBy: SourceKind,
  description: string,
): MeasureDef => ({ code, kind, time, reportedBy, description });

export const MEASURES: Readonly<Record<string, MeasureDef>> = Object.fromEntries(
  [
    m('mobile_subscriptions', 'count', 'stock', 'operator', 'Mobile subscriptions'),
    m('mbb_subscriptions', 'count', 'stock', 'operator', 'Active mobile broadband subscriptions'),
    m('smartphone_subscriptions', 'count', 'stock', 'operator', 'Smartphone subscriptions'),
    m('fbb_subscriptions', 'count', 'stock', 'operator', 'Fixed broadband subscriptions'),
    m('ftth_household_subscriptions', 'count', 'stock', 'operator', 'Residential fibre'),
    m('villages_mbb_covered', 'item_set', 'stock', 'operator', 'Villages with mobile broadband'),
    m('villages_ftth_covered', 'item_set', 'stock', 'operator', 'Villages with FTTH'),
    m('bts_sites', 'item_set', 'stock', 'operator', 'BTS sites the operator transmits from'),
    m('telecom_revenue_vnd', 'amount', 'flow', 'operator', 'Telecom revenue, VND'),
    m('mbb_download_mbps', 'statistic', 'none', 'agency', 'Median mobile download speed'),
    m('fbb_download_mbps', 'statistic', 'none', 'agency', 'Median fixed download speed'),
    m('population', 'count', 'reference', 'agency', 'Population'),
    m('adult_population', 'count', 'reference', 'agency', 'Adult population'),
    m('households', 'count', 'reference', 'agency', 'Households'),
    m('villages_total', 'count', 'reference', 'agency', 'Villages in the area'),
    m('adults_with_smartphone', 'count', 'stock', 'agency', 'Adults owning a smartphone (survey)'),
  ].map((d) => [d.code, d]),
);

/** How the numerator and denominator of a KPI are taken from its measures. */
export type Operand =
  | { readonly measure: string; readonly take: 'value' }
  | { readonly measure: string; readonly take: 'count_union' }
  | { readonly measure: string; readonly take: 'count_shared' };

export type KpiUnit = 'per_100_inhabitants' | 'percent' | 'vnd' | 'mbit_per_s';

export interface KpiDef {
  readonly code: string;
  readonly unit: KpiUnit;
  readonly numerator: Operand;
  /** Absent for KPIs that are the numerator itself. */
  readonly denominator?: Operand;
  /** Multiplier applied to numerator / denominator. */
  readonly scale: number;
  readonly formula: string;
}

const v = (measure: string): Operand => ({ measure, take: 'value' });

export const KPIS: Readonly<Record<string, KpiDef>> = Object.fromEntries(
  (
    [
      ['MOB_SUB_P100', 'per_100_inhabitants', v('mobile_subscriptions'), v('population'), 100],
      ['MBB_SUB_P100', 'per_100_inhabitants', v('mbb_subscriptions'), v('population'), 100],
      ['FBB_SUB_P100', 'per_100_inhabitants', v('fbb_subscriptions'), v('population'), 100],
      ['SMP_SUB_SHARE', 'percent', v('smartphone_subscriptions'), v('mobile_subscriptions'), 100],
      ['ADULT_SMP_RATE', 'percent', v('adults_with_smartphone'), v('adult_population'), 100],
      ['HH_FTTH_RATE', 'percent', v('ftth_household_subscriptions'), v('households'), 100],
      [
        'VIL_MBB_COV',
        'percent',
        { measure: 'villages_mbb_covered', take: 'count_union' },
        v('villages_total'),
        100,
      ],
      [
        'VIL_FTTH_COV',
        'percent',
        { measure: 'villages_ftth_covered', take: 'count_union' },
        v('villages_total'),
        100,
      ],
      [
        'BTS_SITE_SHARE',
        'percent',
        { measure: 'bts_sites', take: 'count_shared' },
        { measure: 'bts_sites', take: 'count_union' },
        100,
      ],
      ['TELECOM_REVENUE', 'vnd', v('telecom_revenue_vnd'), undefined, 1],
      ['MBB_DL_MBPS', 'mbit_per_s', v('mbb_download_mbps'), undefined, 1],
      ['FBB_DL_MBPS', 'mbit_per_s', v('fbb_download_mbps'), undefined, 1],
    ] as const
  ).map(([code, unit, numerator, denominator, scale]) => {
    const def: KpiDef = {
      code,
      unit,
      numerator,
      ...(denominator ? { denominator } : {}),
      scale,
      formula: denominator
        ? `${describe(numerator)} / ${describe(denominator)} × ${scale}`
        : describe(numerator),
    };
    return [code, def];
  }),
);

function describe(o: Operand): string {
  return o.take === 'value'
    ? o.measure
    : o.take === 'count_union'
      ? `count(union ${o.measure})`
      : `count(shared ${o.measure})`;
}

/** Every measure a KPI reads. */
export function kpiMeasures(k: KpiDef): string[] {
  const ms = [k.numerator.measure];
  if (k.denominator && k.denominator.measure !== k.numerator.measure)
    ms.push(k.denominator.measure);
  return ms;
}

/** The KPIs whose value depends on a measure. */
export function kpisReading(measure: string): KpiDef[] {
  return Object.values(KPIS).filter((k) => kpiMeasures(k).includes(measure));
}

/** A registered source: who it is and what it may report, where. */
export interface SourceRegistration {
  readonly id: string;
  readonly kind: SourceKind;
  readonly displayName: string;
  readonly measures: readonly string[];
  /** Province codes (either boundary set) it covers; `'*'` for all. */
  readonly areas: readonly string[] | '*';
  readonly active: boolean;
  /**
   * The measures it is expected to report (they make a KPI \`final\` only once it has); by
   * default every measure it may report.
   */
  readonly expects?: readonly string[];
  /** How its own names and units map to the canonical model; none when it sends canonical feeds. */
  readonly mapping?: MappingProfile;
  /** How often it is expected to report, and how many days after a period's end it is due. */
  readonly reports: {
    readonly every: 'month' | 'quarter' | 'half' | 'year';
    readonly dueDays: number;
  };
}

const OPERATOR_MEASURES = Object.values(MEASURES)
  .filter((d) => d.reportedBy === 'operator')
  .map((d) => d.code);

/** The registry a new database starts with (contract v1); the admin API changes it from there. */
export const DEFAULT_SOURCES: readonly SourceRegistration[] = [
  ...(
    [
      ['viettel', 'Viettel'],
      ['vnpt', 'VNPT'],
      ['mobifone', 'MobiFone'],
      ['vietnamobile', 'Vietnamobile'],
    ] as const
  ).map(([id, displayName]) => ({
    id,
    kind: 'operator' as const,
    displayName,
    measures: OPERATOR_MEASURES,
    areas: '*' as const,
    active: true,
    reports: { every: 'month' as const, dueDays: 15 },
  })),
  {
    id: 'gso',
    kind: 'agency',
    displayName: 'General Statistics Office',
    measures: [
      'population',
      'adult_population',
      'households',
      'villages_total',
      'adults_with_smartphone',
    ],
    areas: '*',
    active: true,
    reports: { every: 'year', dueDays: 90 },
  },
  {
    id: 'vnnic',
    kind: 'agency',
    displayName: 'VNNIC speed-test authority',
    measures: ['mbb_download_mbps', 'fbb_download_mbps'],
    areas: '*',
    active: true,
    reports: { every: 'quarter', dueDays: 30 },
  },
];

/**
 * A source's own vocabulary, as data: its measure names (with a scale for figures it reports in
 * thousands), aliases for area names the admin-unit lists do not know, how it writes numbers,
 * and its CSV column names.
 */
export interface MappingProfile {
  readonly measures?: Readonly<
    Record<string, { readonly measure: string; readonly scale?: number }>
  >;
  /** Extra names for areas: name (any spelling) -> statistics office code. */
  readonly areas?: Readonly<Record<string, string>>;
  /** `vi`: "1.234.567,5"; `en` (default): "1,234,567.5". */
  readonly numbers?: 'en' | 'vi';
  /** CSV header for each field, when the source does not use the field names. */
  readonly columns?: Readonly<Partial<Record<CsvField, string>>>;
}

export const CSV_FIELDS = [
  'area',
  'measure',
  'value',
  'items',
  'qualifier',
  'period',
  'feedId',
  'sentAt',
  'status',
] as const;
export type CsvField = (typeof CSV_FIELDS)[number];

export class SourceRegistry {
  private readonly byId: Map<string, SourceRegistration>;

  constructor(sources: readonly SourceRegistration[] = DEFAULT_SOURCES) {
    this.byId = new Map(sources.map((s) => [s.id, s]));
  }

  get(id: string): SourceRegistration | undefined {
    return this.byId.get(id);
  }

  all(): SourceRegistration[] {
    return [...this.byId.values()];
  }

  /** Active sources registered to report a measure in a province (either boundary set). */
  expectedFor(measure: string, province: string): string[] {
    return [...this.byId.values()]
      .filter(
        (s) =>
          s.active &&
          (s.expects ?? s.measures).includes(measure) &&
          (s.areas === '*' || s.areas.includes(province)),
      )
      .map((s) => s.id)
      .sort();
  }
}
