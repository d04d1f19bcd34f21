import {
  type BoundarySet,
  KPIS,
  type KpiUnit,
  kpiName,
  type Lang,
  mustParsePeriod,
  shiftPeriod,
  UNIT_NAMES,
} from '@app/catalogue';
import type { Approval, KpiEvent } from '@app/contract';

/**
 * A province's periodic report (issue 27), as data: pure, built from the events the query API
 * serves, so that its figures are the API's. Rendering (HTML, CSV; PDF from the HTML) is
 * `report.render.ts`.
 */
export interface ReportInput {
  readonly areaSet: BoundarySet;
  readonly area: string;
  readonly areaName: string;
  readonly period: string;
  readonly lang: Lang;
  readonly generatedAt: string;
  /** The province's events for the period, the period before and the same period a year before. */
  readonly current: readonly KpiEvent[];
  readonly previous: readonly KpiEvent[];
  readonly yearBefore: readonly KpiEvent[];
  /** The province's events for periods of the same kind, up to this one. */
  readonly series: readonly KpiEvent[];
  /** The units one level down (districts; communes in the 2025 lists) and their events. */
  readonly subUnits: {
    readonly level: 'district' | 'commune';
    readonly units: readonly { readonly code: string; readonly name: string }[];
    readonly events: readonly KpiEvent[];
  };
  /** The period's approval, when it was ever moved. */
  readonly approval?: Approval;
}

export interface ReportIndicator {
  readonly kpi: string;
  readonly name: string;
  readonly unit: KpiUnit;
  readonly unitName: string;
  readonly value: number | null;
  readonly numerator: number | null;
  readonly denominator: number | null;
  readonly denominatorPeriod: string | null;
  readonly previous: number | null;
  readonly changePrevious: number | null;
  readonly yearBefore: number | null;
  readonly changeYear: number | null;
  readonly target?: {
    readonly value: number;
    readonly period: string;
    readonly comparison: string;
    readonly document: string;
    /** value / target */
    readonly attainment: number | null;
    readonly met: boolean | null;
  };
  readonly status: 'final' | 'provisional' | null;
  readonly expected: readonly string[];
  readonly reported: readonly string[];
  /** A correction held while the period is approved. */
  readonly pending: number | null;
  /** The data notes of this figure, in the report's language. */
  readonly notes: readonly string[];
}

export interface ProvinceReport {
  readonly areaSet: BoundarySet;
  readonly area: string;
  readonly areaName: string;
  readonly period: string;
  readonly previousPeriod: string;
  readonly yearBeforePeriod: string;
  readonly lang: Lang;
  readonly generatedAt: string;
  readonly approval: Approval | { readonly state: 'open' };
  readonly indicators: readonly ReportIndicator[];
  /** KPIs with neither a figure nor a target: named once, not listed empty. */
  readonly withoutFigures: readonly string[];
  readonly subUnits: {
    readonly level: 'district' | 'commune';
    readonly kpis: readonly string[];
    readonly rows: readonly {
      readonly code: string;
      readonly name: string;
      readonly values: Readonly<Record<string, number | null>>;
    }[];
  };
  readonly series: Readonly<Record<string, readonly { period: string; value: number | null }[]>>;
  /** Per source: how many indicators expected it, and how many it reported for. */
  readonly completeness: readonly { source: string; expected: number; reported: number }[];
  /** Notes on the whole report. */
  readonly notes: readonly string[];
}

/** The period before (same kind) and the same period a year before. */
export function comparisonPeriods(code: string): { previous: string; yearBefore: string } {
  const p = mustParsePeriod(code);
  const perYear = { year: 1, half: 2, quarter: 4, month: 12 }[p.kind];
  return { previous: shiftPeriod(p, -1), yearBefore: shiftPeriod(p, -perYear) };
}

const NOTES = {
  vi: {
    provisional: 'tạm tính: có nguồn chưa báo cáo hoặc số liệu ước thực hiện',
    denominator: (p: string) => `mẫu số lấy từ kỳ ${p}`,
    pending: (v: string) => `có số liệu điều chỉnh ${v} đang chờ phê duyệt lại`,
    qualified: 'có số liệu đầu vào ghi "hơn"/"trên" (giá trị tối thiểu)',
    notApproved: 'Số liệu kỳ này chưa được phê duyệt chính thức: có thể còn thay đổi.',
    approved: (by: string, at: string) => `Số liệu đã được phê duyệt bởi ${by} lúc ${at}.`,
    missing: (s: string) => `Chưa báo cáo: ${s}.`,
  },
  en: {
    provisional: 'provisional: a source has not reported, or inputs are estimates',
    denominator: (p: string) => `denominator taken from ${p}`,
    pending: (v: string) => `a correction (${v}) awaits re-approval`,
    qualified: 'inputs given as "more than" (a lower bound)',
    notApproved: "This period's figures are not approved yet: they may still change.",
    approved: (by: string, at: string) => `Figures approved by ${by} at ${at}.`,
    missing: (s: string) => `Not reported: ${s}.`,
  },
} as const;

const MEASURES_VI: Record<string, string> = {
  population: 'dân số',
  households: 'số hộ gia đình',
  villages_total: 'tổng số thôn, bản',
  adult_population: 'dân số trưởng thành',
  mobile_subscriptions: 'số thuê bao di động',
};
const vi = (measure: string): string => MEASURES_VI[measure] ?? measure;

/** The engine's notes (`libs/aggregation/src/notes.ts`, English) in the report's language. */
export function localNote(note: string, lang: Lang): string {
  if (lang === 'en') return note;
  const rules: [RegExp, (...m: string[]) => string][] = [
    [/^no data for (\S+)$/, (x) => `không có số liệu ${vi(x)}`],
    [
      /^no (\S+) for (\S+) in or before (\S+?)(?:: none for old unit\(s\) (.+))?$/,
      (x, a, p, old) =>
        `không có ${vi(x)} của ${a} đến kỳ ${p}${old ? `: đơn vị cũ ${old} không có` : ''}`,
    ],
    [/^(\S+) is zero$/, (x) => `${vi(x)} bằng 0`],
    [
      /^denominator (\S+): the sum of old units (.+), taken from (\S+)$/,
      (x, old, p) => `mẫu số ${vi(x)}: tổng của các đơn vị cũ ${old}, lấy từ kỳ ${p}`,
    ],
    [/^denominator (\S+) taken from (\S+)$/, (x, p) => `mẫu số ${vi(x)} lấy từ kỳ ${p}`],
    [
      /^not re-based: formed in part from split commune\(s\) (.+)$/,
      (x) => `không tính lại theo địa giới mới: hình thành một phần từ xã bị chia tách ${x}`,
    ],
    [/^no figure when the period was approved$/, () => 'không có số liệu khi kỳ được phê duyệt'],
  ];
  for (const [re, say] of rules) {
    const m = re.exec(note);
    if (m) return say(...m.slice(1));
  }
  return note;
}

/** A number as the report's language writes it. */
export function formatNumber(v: number | null, lang: Lang, digits = 2): string {
  if (v === null || !Number.isFinite(v)) return '—';
  return new Intl.NumberFormat(lang === 'vi' ? 'vi-VN' : 'en-GB', {
    maximumFractionDigits: digits,
  }).format(v);
}

export function buildReport(input: ReportInput): ProvinceReport {
  const { lang } = input;
  const t = NOTES[lang];
  const { previous: previousPeriod, yearBefore: yearBeforePeriod } = comparisonPeriods(
    input.period,
  );
  const at = (events: readonly KpiEvent[]) => new Map(events.map((e) => [e.kpi, e]));
  const cur = at(input.current);
  const prev = at(input.previous);
  const before = at(input.yearBefore);
  const indicators: ReportIndicator[] = [];
  const withoutFigures: string[] = [];
  for (const [kpi, def] of Object.entries(KPIS)) {
    const e = cur.get(kpi);
    if (!e) {
      withoutFigures.push(kpiName(kpi, lang));
      continue;
    }
    const value = e.value;
    const p = prev.get(kpi)?.value ?? null;
    const y = before.get(kpi)?.value ?? null;
    const notes: string[] = [];
    if (e.note) notes.push(localNote(e.note, lang));
    if (e.status === 'provisional') notes.push(t.provisional);
    if (
      e.denominatorPeriod &&
      !e.denominatorPeriod.startsWith(input.period.slice(0, 4)) &&
      !e.note?.includes(e.denominatorPeriod)
    )
      notes.push(t.denominator(e.denominatorPeriod));
    if (e.inputs.some((i) => i.qualifier === '>' || i.qualifier === '>=')) notes.push(t.qualified);
    if (e.pending) notes.push(t.pending(formatNumber(e.pending.value, lang)));
    const target = e.target;
    indicators.push({
      kpi,
      name: kpiName(kpi, lang),
      unit: def.unit,
      unitName: UNIT_NAMES[def.unit][lang],
      value,
      numerator: e.numerator,
      denominator: e.denominator,
      denominatorPeriod: e.denominatorPeriod,
      previous: p,
      changePrevious: value !== null && p !== null ? value - p : null,
      yearBefore: y,
      changeYear: value !== null && y !== null ? value - y : null,
      ...(target
        ? {
            target: {
              value: target.target,
              period: target.targetPeriod,
              comparison: target.comparison,
              document: `${target.documentNumber} (${target.issuingBody})`,
              attainment: target.ratio,
              met: target.met,
            },
          }
        : {}),
      status: e.status,
      expected: e.completeness.expected,
      reported: e.completeness.reported,
      pending: e.pending ? e.pending.value : null,
      notes,
    });
  }
  const kpisBelow = Object.keys(KPIS).filter((k) =>
    input.subUnits.events.some((e) => e.kpi === k && e.value !== null),
  );
  const below = new Map<string, Record<string, number | null>>();
  for (const e of input.subUnits.events) {
    const row = below.get(e.area) ?? {};
    row[e.kpi] = e.value;
    below.set(e.area, row);
  }
  const series: Record<string, { period: string; value: number | null }[]> = {};
  for (const e of [...input.series].sort((a, b) => a.period.localeCompare(b.period)))
    (series[e.kpi] ??= []).push({ period: e.period, value: e.value });
  const sources = new Map<string, { expected: number; reported: number }>();
  for (const i of indicators) {
    for (const s of i.expected) {
      const c = sources.get(s) ?? { expected: 0, reported: 0 };
      c.expected++;
      if (i.reported.includes(s)) c.reported++;
      sources.set(s, c);
    }
  }
  const completeness = [...sources]
    .map(([source, c]) => ({ source, ...c }))
    .sort((a, b) => a.source.localeCompare(b.source));
  const missing = completeness.filter((c) => c.reported < c.expected).map((c) => c.source);
  const approval = input.approval ?? { state: 'open' as const };
  const notes = [
    approval.state === 'approved'
      ? t.approved(approval.by, approval.at.slice(0, 16).replace('T', ' '))
      : t.notApproved,
    ...(missing.length ? [t.missing(missing.join(', '))] : []),
  ];
  return {
    areaSet: input.areaSet,
    area: input.area,
    areaName: input.areaName,
    period: input.period,
    previousPeriod,
    yearBeforePeriod,
    lang,
    generatedAt: input.generatedAt,
    approval,
    indicators,
    withoutFigures,
    subUnits: {
      level: input.subUnits.level,
      kpis: kpisBelow,
      rows: input.subUnits.units
        .filter((u) => below.has(u.code))
        .map((u) => ({ code: u.code, name: u.name, values: below.get(u.code)! })),
    },
    series,
    completeness,
    notes,
  };
}
