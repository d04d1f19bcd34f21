import { type Lang } from '@app/catalogue';
import { toCsv } from '../common/csv.js';
import { formatNumber, type ProvinceReport, type ReportIndicator } from './report.model.js';

const T = {
  vi: {
    title: 'Báo cáo kết quả phát triển hạ tầng số',
    province: 'Tỉnh/thành phố',
    period: 'Kỳ báo cáo',
    generated: 'Lập lúc',
    approval: 'Trạng thái phê duyệt',
    states: {
      open: 'Đang mở (chưa gửi duyệt)',
      submitted: 'Đã gửi, chờ phê duyệt',
      approved: 'Đã phê duyệt',
    },
    indicators: 'Các chỉ tiêu hạ tầng số',
    kpi: 'Chỉ tiêu',
    value: 'Giá trị',
    unit: 'Đơn vị tính',
    previous: 'Kỳ trước',
    change: 'Thay đổi',
    yearBefore: 'Cùng kỳ năm trước',
    target: 'Chỉ tiêu kế hoạch',
    attainment: 'Mức đạt',
    status: 'Tình trạng',
    final: 'chính thức',
    provisional: 'tạm tính',
    pending: 'Chờ phê duyệt lại',
    below: { district: 'Chi tiết theo huyện', commune: 'Chi tiết theo xã' },
    area: 'Địa bàn',
    charts: 'Diễn biến các chỉ tiêu',
    completeness: 'Mức đầy đủ của số liệu (đơn vị báo cáo)',
    source: 'Đơn vị',
    expected: 'Số chỉ tiêu cần báo cáo',
    reported: 'Đã báo cáo',
    notes: 'Ghi chú số liệu',
    without: 'Chưa có số liệu',
    met: 'đạt',
    notMet: 'chưa đạt',
    csv: 'Số liệu (CSV, mở bằng Excel)',
  },
  en: {
    title: 'Digital infrastructure report',
    province: 'Province',
    period: 'Period',
    generated: 'Generated',
    approval: 'Approval',
    states: {
      open: 'Open (not submitted)',
      submitted: 'Submitted, awaiting approval',
      approved: 'Approved',
    },
    indicators: 'Digital infrastructure indicators',
    kpi: 'Indicator',
    value: 'Value',
    unit: 'Unit',
    previous: 'Previous period',
    change: 'Change',
    yearBefore: 'A year before',
    target: 'Plan target',
    attainment: 'Attainment',
    status: 'Status',
    final: 'final',
    provisional: 'provisional',
    pending: 'Pending re-approval',
    below: { district: 'By district', commune: 'By commune' },
    area: 'Area',
    charts: 'Indicators over time',
    completeness: 'Completeness (who reported)',
    source: 'Source',
    expected: 'Indicators expected',
    reported: 'Reported',
    notes: 'Data notes',
    without: 'No figures yet',
    met: 'met',
    notMet: 'not met',
    csv: 'Figures (CSV, opens in Excel)',
  },
} as const;

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const signed = (v: number | null, lang: Lang): string =>
  v === null ? '—' : `${v > 0 ? '+' : ''}${formatNumber(v, lang)}`;

const percent = (r: number | null, lang: Lang): string =>
  r === null ? '—' : `${formatNumber(r * 100, lang, 1)} %`;

function targetCell(i: ReportIndicator, lang: Lang): string {
  if (!i.target) return '<td>—</td><td>—</td>';
  const t = T[lang];
  const met = i.target.met === null ? '' : ` (${i.target.met ? t.met : t.notMet})`;
  return (
    `<td title="${esc(i.target.document)}">${formatNumber(i.target.value, lang)} (${esc(i.target.period)})</td>` +
    `<td>${percent(i.target.attainment, lang)}${met}</td>`
  );
}

/** A line chart of one indicator's series, as inline SVG (printable, no script). */
function chart(points: readonly { period: string; value: number | null }[], lang: Lang): string {
  const known = points.filter((p) => p.value !== null) as { period: string; value: number }[];
  if (known.length === 0) return '';
  const w = 300;
  const h = 120;
  const pad = 24;
  const max = Math.max(...known.map((p) => p.value));
  const min = Math.min(0, ...known.map((p) => p.value));
  const x = (i: number) =>
    pad + (points.length > 1 ? (i * (w - 2 * pad)) / (points.length - 1) : (w - 2 * pad) / 2);
  const y = (v: number) => h - pad - ((v - min) / (max - min || 1)) * (h - 2 * pad);
  const line = points
    .map((p, i) => (p.value === null ? null : `${x(i).toFixed(1)},${y(p.value).toFixed(1)}`))
    .filter(Boolean)
    .join(' ');
  const dots = points
    .map((p, i) =>
      p.value === null
        ? ''
        : `<circle cx="${x(i).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="2.5"><title>${esc(p.period)}: ${formatNumber(p.value, lang)}</title></circle>`,
    )
    .join('');
  const first = points[0]!.period;
  const last = points.at(-1)!.period;
  return (
    `<svg class="chart" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img">` +
    `<polyline fill="none" stroke="#1f5fa8" stroke-width="1.5" points="${line}"/>${dots}` +
    `<text x="${pad}" y="${h - 6}" font-size="9">${esc(first)}</text>` +
    (points.length > 1
      ? `<text x="${w - pad}" y="${h - 6}" font-size="9" text-anchor="end">${esc(last)}</text>`
      : '') +
    `<text x="2" y="${pad - 8}" font-size="9">${formatNumber(max, lang)}</text>` +
    `</svg>`
  );
}

/** The report as a printable HTML page (A4), in its language. */
export function reportHtml(
  r: ProvinceReport,
  links: { csv?: string; other?: string } = {},
): string {
  const t = T[r.lang];
  const rows = r.indicators
    .map(
      (i) =>
        `<tr data-kpi="${i.kpi}"><td>${esc(i.name)}</td>` +
        `<td class="num value">${formatNumber(i.value, r.lang)}</td><td>${esc(i.unitName)}</td>` +
        `<td class="num">${formatNumber(i.previous, r.lang)}</td><td class="num">${signed(i.changePrevious, r.lang)}</td>` +
        `<td class="num">${formatNumber(i.yearBefore, r.lang)}</td><td class="num">${signed(i.changeYear, r.lang)}</td>` +
        targetCell(i, r.lang) +
        `<td>${i.status ? t[i.status] : '—'}${i.pending !== null ? `<br><em>${t.pending}: ${formatNumber(i.pending, r.lang)}</em>` : ''}</td></tr>`,
    )
    .join('');
  const below = r.subUnits.rows.length
    ? `<h2>${t.below[r.subUnits.level]}</h2><table class="below"><thead><tr><th>${t.area}</th>${r.subUnits.kpis
        .map((k) => `<th>${esc(r.indicators.find((i) => i.kpi === k)?.name ?? k)}</th>`)
        .join('')}</tr></thead><tbody>${r.subUnits.rows
        .map(
          (u) =>
            `<tr><td>${esc(u.name)} (${u.code})</td>${r.subUnits.kpis
              .map((k) => `<td class="num">${formatNumber(u.values[k] ?? null, r.lang)}</td>`)
              .join('')}</tr>`,
        )
        .join('')}</tbody></table>`
    : '';
  const charts = r.indicators
    .filter((i) => (r.series[i.kpi]?.length ?? 0) > 0)
    .map(
      (i) =>
        `<figure><figcaption>${esc(i.name)} (${esc(i.unitName)})</figcaption>${chart(r.series[i.kpi]!, r.lang)}</figure>`,
    )
    .join('');
  const notes = [
    ...r.notes,
    ...r.indicators.filter((i) => i.notes.length).map((i) => `${i.name}: ${i.notes.join('; ')}.`),
    ...(r.withoutFigures.length ? [`${t.without}: ${r.withoutFigures.join('; ')}.`] : []),
  ];
  const a = r.approval;
  const approval =
    a.state === 'open' && !('by' in a)
      ? t.states.open
      : `${t.states[a.state]}${'by' in a ? ` — ${esc(a.by)}, ${esc(a.at.slice(0, 16).replace('T', ' '))}${a.reason ? ` (${esc(a.reason)})` : ''}` : ''}`;
  return `<!doctype html>
<html lang="${r.lang}"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${esc(t.title)} — ${esc(r.areaName)} — ${esc(r.period)}</title>
<style>
  @page { size: A4; margin: 14mm; }
  body { font-family: "DejaVu Sans", "Noto Sans", Arial, sans-serif; font-size: 10.5px; color: #111; }
  h1 { font-size: 17px; margin: 0 0 4px; } h2 { font-size: 13px; margin: 16px 0 6px; }
  table { border-collapse: collapse; width: 100%; } th, td { border: 1px solid #999; padding: 3px 4px; vertical-align: top; }
  th { background: #e8eef6; text-align: left; } td.num { text-align: right; white-space: nowrap; }
  .meta td { border: none; padding: 1px 8px 1px 0; } .state-approved { color: #176b2c; font-weight: bold; }
  .state-open, .state-submitted { color: #9a5b00; font-weight: bold; }
  figure { display: inline-block; margin: 4px 8px 8px 0; break-inside: avoid; } figcaption { font-size: 9.5px; max-width: 300px; }
  .chart circle { fill: #1f5fa8; } table, figure { break-inside: auto; } tr { break-inside: avoid; }
  a { color: #1f5fa8; } @media print { a.screen { display: none; } }
</style></head>
<body data-area="${r.area}" data-area-set="${r.areaSet}" data-period="${r.period}" data-approval="${a.state}">
<h1>${esc(t.title)}</h1>
<table class="meta">
<tr><td>${t.province}:</td><td><b>${esc(r.areaName)}</b> (${r.area}, ${r.areaSet})</td></tr>
<tr><td>${t.period}:</td><td><b>${esc(r.period)}</b> · ${t.previous}: ${esc(r.previousPeriod)} · ${t.yearBefore}: ${esc(r.yearBeforePeriod)}</td></tr>
<tr><td>${t.approval}:</td><td class="state-${a.state}" id="approval">${approval}</td></tr>
<tr><td>${t.generated}:</td><td>${esc(r.generatedAt.slice(0, 19).replace('T', ' '))} UTC${links.csv ? ` · <a class="screen" href="${esc(links.csv)}">${t.csv}</a>` : ''}${links.other ? ` · <a class="screen" href="${esc(links.other)}">${r.lang === 'vi' ? 'English' : 'Tiếng Việt'}</a>` : ''}</td></tr>
</table>
<h2>${t.indicators}</h2>
<table class="indicators"><thead><tr><th>${t.kpi}</th><th>${t.value}</th><th>${t.unit}</th><th>${t.previous}</th><th>${t.change}</th><th>${t.yearBefore}</th><th>${t.change}</th><th>${t.target}</th><th>${t.attainment}</th><th>${t.status}</th></tr></thead>
<tbody>${rows}</tbody></table>
${below}
<h2>${t.charts}</h2>
<div class="charts">${charts}</div>
<h2>${t.completeness}</h2>
<table class="completeness"><thead><tr><th>${t.source}</th><th>${t.expected}</th><th>${t.reported}</th></tr></thead><tbody>${r.completeness
    .map(
      (c) =>
        `<tr><td>${esc(c.source)}</td><td class="num">${c.expected}</td><td class="num">${c.reported}</td></tr>`,
    )
    .join('')}</tbody></table>
<h2>${t.notes}</h2>
<ul class="notes">${notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>
</body></html>
`;
}

const CSV_HEADER = [
  'areaSet',
  'area',
  'areaName',
  'period',
  'kpi',
  'indicator',
  'value',
  'unit',
  'previousPeriod',
  'previousValue',
  'changePrevious',
  'yearBeforePeriod',
  'yearBeforeValue',
  'changeYear',
  'target',
  'targetPeriod',
  'attainment',
  'status',
  'approval',
  'pendingValue',
  'reported',
  'expected',
  'notes',
];

/**
 * The report's figures as CSV that Excel opens as UTF-8 (a byte-order mark, CRLF): one row
 * per indicator of the province, then one per indicator of each unit below it.
 */
export function reportCsv(r: ProvinceReport): string {
  const rows: unknown[][] = r.indicators.map((i) => [
    r.areaSet,
    r.area,
    r.areaName,
    r.period,
    i.kpi,
    i.name,
    i.value,
    i.unit,
    r.previousPeriod,
    i.previous,
    i.changePrevious,
    r.yearBeforePeriod,
    i.yearBefore,
    i.changeYear,
    i.target?.value ?? null,
    i.target?.period ?? null,
    i.target?.attainment ?? null,
    i.status,
    r.approval.state,
    i.pending,
    i.reported.join(' '),
    i.expected.join(' '),
    i.notes.join('; '),
  ]);
  for (const u of r.subUnits.rows)
    for (const k of r.subUnits.kpis)
      rows.push([
        r.areaSet,
        u.code,
        u.name,
        r.period,
        k,
        r.indicators.find((i) => i.kpi === k)?.name ?? k,
        u.values[k] ?? null,
        r.indicators.find((i) => i.kpi === k)?.unit ?? null,
        ...Array(15).fill(null),
      ]);
  return '\ufeff' + toCsv(CSV_HEADER, rows);
}
