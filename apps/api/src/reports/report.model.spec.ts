import { type KpiEvent, toKpiEvent } from '@app/contract';
import { buildReport, comparisonPeriods, localNote, type ReportInput } from './report.model.js';
import { reportCsv, reportHtml } from './report.render.js';

const event = (
  kpi: string,
  area: string,
  period: string,
  numerator: number,
  denominator: number,
  more: Partial<KpiEvent> = {},
): KpiEvent => ({
  ...toKpiEvent({
    kpi,
    area,
    period,
    bs: '2008',
    year: Number(period.slice(0, 4)),
    areaName: area === '58' ? 'Ninh Thuận' : `unit ${area}`,
    unit: 'per_100_inhabitants',
    value: (numerator / denominator) * 100,
    numerator,
    denominator,
    denominatorPeriod: period.slice(0, 4),
    status: 'final',
    completeness: { expected: ['viettel', 'vnpt'], reported: ['viettel', 'vnpt'] },
    inputs: [{ source: 'viettel', feedId: 'f', measure: 'mbb_subscriptions' }],
    note: null,
    yearToDate: null,
    revision: 1,
    eventId: 'e',
    computedAt: '2023-04-01T00:00:00.000Z',
  }),
  ...more,
});

const input = (over: Partial<ReportInput> = {}): ReportInput => ({
  areaSet: '2008',
  area: '58',
  areaName: 'Ninh Thuận',
  period: '2023-Q1',
  lang: 'vi',
  generatedAt: '2026-12-07T00:00:00.000Z',
  current: [
    event('MBB_SUB_P100', '58', '2023-Q1', 252_906, 596_049, {
      denominatorPeriod: '2021',
      note: 'denominator population taken from 2021',
      status: 'provisional',
      completeness: { expected: ['mobifone', 'viettel', 'vnpt'], reported: ['viettel', 'vnpt'] },
      target: {
        planId: 'p',
        issuingBody: 'UBND tỉnh',
        documentNumber: '1/KH',
        targetPeriod: '2025',
        target: 80,
        comparison: 'at_least',
        basis: 'level',
        actual: 42.43,
        ratio: 42.43 / 80,
        met: false,
      },
    }),
    event('FBB_SUB_P100', '58', '2023-Q1', 84_737, 596_049),
  ],
  previous: [event('MBB_SUB_P100', '58', '2022-Q4', 240_000, 596_049)],
  yearBefore: [event('MBB_SUB_P100', '58', '2022-Q1', 200_000, 596_049)],
  series: [
    event('MBB_SUB_P100', '58', '2023-Q1', 252_906, 596_049),
    event('MBB_SUB_P100', '58', '2022-Q1', 200_000, 596_049),
    event('MBB_SUB_P100', '58', '2022-Q4', 240_000, 596_049),
  ],
  subUnits: {
    level: 'district',
    units: [
      { code: '582', name: 'Phan Rang-Tháp Chàm' },
      { code: '584', name: 'Bác Ái' },
    ],
    events: [event('MBB_SUB_P100', '582', '2023-Q1', 90_000, 170_000)],
  },
  ...over,
});

describe('comparison periods', () => {
  it.each([
    ['2024-H1', '2023-H2', '2023-H1'],
    ['2023-Q1', '2022-Q4', '2022-Q1'],
    ['2024-01', '2023-12', '2023-01'],
    ['2024-07', '2024-06', '2023-07'],
    ['2024', '2023', '2023'],
  ])('%s is compared with %s and %s', (period, previous, yearBefore) => {
    expect(comparisonPeriods(period)).toEqual({ previous, yearBefore });
  });
});

describe('a provincial report', () => {
  const r = buildReport(input());
  const mbb = r.indicators.find((i) => i.kpi === 'MBB_SUB_P100')!;

  it('gives each indicator its value, its change against the previous period and a year before', () => {
    expect(mbb.value).toBeCloseTo(42.43, 2);
    expect(mbb.changePrevious).toBeCloseTo(((252_906 - 240_000) / 596_049) * 100, 10);
    expect(mbb.changeYear).toBeCloseTo(((252_906 - 200_000) / 596_049) * 100, 10);
    expect(mbb.target).toMatchObject({ value: 80, period: '2025', met: false });
    expect(mbb.target!.attainment).toBeCloseTo(42.43 / 80, 10);
    expect(r.indicators.find((i) => i.kpi === 'FBB_SUB_P100')!.previous).toBeNull();
  });

  it('says what a reader needs to know, in Vietnamese by default', () => {
    expect(mbb.notes).toEqual([
      'mẫu số dân số lấy từ kỳ 2021',
      'tạm tính: có nguồn chưa báo cáo hoặc số liệu ước thực hiện',
    ]);
    expect(r.notes).toEqual([
      'Số liệu kỳ này chưa được phê duyệt chính thức: có thể còn thay đổi.',
      'Chưa báo cáo: mobifone.',
    ]);
    expect(r.completeness).toEqual([
      { source: 'mobifone', expected: 1, reported: 0 },
      { source: 'viettel', expected: 2, reported: 2 },
      { source: 'vnpt', expected: 2, reported: 2 },
    ]);
    expect(r.withoutFigures).toHaveLength(10);
  });

  it('lists the districts that have figures, and each series oldest first', () => {
    expect(r.subUnits.rows).toEqual([
      {
        code: '582',
        name: 'Phan Rang-Tháp Chàm',
        values: { MBB_SUB_P100: (90_000 / 170_000) * 100 },
      },
    ]);
    expect(r.series.MBB_SUB_P100!.map((p) => p.period)).toEqual(['2022-Q1', '2022-Q4', '2023-Q1']);
  });

  it('names the approval, and a correction pending re-approval', () => {
    const approved = buildReport(
      input({
        lang: 'en',
        approval: { state: 'approved', by: 'ninh-thuan-stic', at: '2023-04-10T03:00:00.000Z' },
        current: [
          event('MBB_SUB_P100', '58', '2023-Q1', 252_906, 596_049, {
            pending: {
              ...event('MBB_SUB_P100', '58', '2023-Q1', 260_000, 596_049),
              computedAt: '2023-04-11T00:00:00.000Z',
            },
          }),
        ],
      }),
    );
    expect(approved.notes[0]).toBe('Figures approved by ninh-thuan-stic at 2023-04-10 03:00.');
    expect(approved.indicators[0]!.pending).toBeCloseTo((260_000 / 596_049) * 100, 10);
    expect(approved.indicators[0]!.notes).toEqual(['a correction (43.62) awaits re-approval']);
  });

  it("translates the engine's notes", () => {
    expect(
      localNote('no population for 15 in or before 2026-10: none for old unit(s) 10', 'vi'),
    ).toBe('không có dân số của 15 đến kỳ 2026-10: đơn vị cũ 10 không có');
    expect(localNote('something new', 'vi')).toBe('something new');
  });
});

describe('the report rendered', () => {
  const r = buildReport(input());

  it('is an HTML page with the figures as Vietnamese writes them, escaped', () => {
    const html = reportHtml(buildReport(input({ areaName: 'Ninh <Thuận>' })));
    expect(html).toContain('<html lang="vi">');
    expect(html).toContain('Ninh &#60;Thuận&#62;');
    expect(html).toContain('>42,43<');
    expect(html).toContain('53 % (chưa đạt)');
    expect(html).toContain('Chi tiết theo huyện');
    expect(html).toMatch(/<svg class="chart"/);
  });

  it('is a CSV that Excel reads as UTF-8, with the same numbers', () => {
    const csv = reportCsv(r);
    expect(csv.startsWith('\ufeffareaSet,area,')).toBe(true);
    const lines = csv.trim().split('\r\n');
    expect(lines).toHaveLength(1 + 2 + 1);
    const mbb = lines[1]!.split(',');
    expect(mbb.slice(0, 5)).toEqual(['2008', '58', 'Ninh Thuận', '2023-Q1', 'MBB_SUB_P100']);
    expect(Number(mbb[6])).toBe(mbbValue(r));
    expect(lines[3]!.split(',').slice(1, 7)).toEqual([
      '582',
      'Phan Rang-Tháp Chàm',
      '2023-Q1',
      'MBB_SUB_P100',
      'Số thuê bao băng rộng di động trên 100 dân',
      String((90_000 / 170_000) * 100),
    ]);
  });
});

const mbbValue = (r: ReturnType<typeof buildReport>) =>
  r.indicators.find((i) => i.kpi === 'MBB_SUB_P100')!.value;
