/**
 * The provincial report (issue 27) on the built services, a real broker, a real PostgreSQL
 * and a real headless Chromium: the demo's feeds and the seed plans in, the reports of the two
 * seed reports out (Điện Biên 2024-H1, Ninh Thuận 2023-Q1) as HTML, PDF and CSV, Vietnamese
 * and English, with the query API's figures; `npm run hub -- report` writes the three files.
 */
import type { KpiEvent } from '@app/contract';
import {
  callJson,
  eventually,
  FeedSender,
  type HubProcesses,
  kafkaClient,
  startTestHub,
} from '@app/testing';
import { parse } from 'csv-parse/sync';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEMO_TABLE, demoFeeds, REPORT_DEMOS } from '../scripts/demo/demo-feeds.mjs';

const ADMIN_TOKEN = 'e2e-admin-token-report-0123456789';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

interface Indicator {
  kpi: string;
  name: string;
  value: number | null;
  unitName: string;
  target?: { value: number; attainment: number | null };
  notes: string[];
}
interface Report {
  areaName: string;
  approval: { state: string };
  indicators: Indicator[];
}

let hub: HubProcesses;
let sender: FeedSender;

const report = (area: string, period: string, query = '') =>
  fetch(hub.url('api', `/v1/reports/${area}/${period}${query}`));
const reportJson = async (area: string, period: string, lang = 'vi') =>
  (await (await report(area, period, `?format=json&lang=${lang}`)).json()) as Report;
const apiKpis = async (area: string, period: string) =>
  (await hub.getJson<{ items: KpiEvent[] }>('api', `/v1/kpis?area=${area}&period=${period}`)).items;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `no Chromium at ${CHROMIUM}: install Debian's package (apt-get install chromium) or set CHROMIUM_PATH`,
    );
  ({ hub } = await startTestHub('report', 14_400, { ADMIN_TOKEN, CHROMIUM_PATH: CHROMIUM }));
  const { plans } = JSON.parse(readFileSync('data/plans/seed-plans.json', 'utf8')) as {
    plans: unknown[];
  };
  expect((await callJson(hub.url('api', '/v1/plans'), 'POST', ADMIN_TOKEN, { plans })).status).toBe(
    201,
  );
  sender = await new FeedSender(kafkaClient()).start();
  await sender.send(demoFeeds());
  await eventually(
    async () => {
      const rows = await Promise.all(
        DEMO_TABLE.map(async (r) => (await apiKpis(r.area, r.period)).find((e) => e.kpi === r.kpi)),
      );
      return rows.every((e) => e?.value !== null && e?.value !== undefined) || undefined;
    },
    { what: "the demo's KPIs" },
  );
});

afterAll(async () => {
  await Promise.all([sender?.stop(), hub?.stopAll()]);
});

describe.each(REPORT_DEMOS)('the report of $area $period', ({ area, period }) => {
  it("shows the query API's figures, and the seed report's where its inputs allow", async () => {
    const r = await reportJson(area, period);
    const kpis = await apiKpis(area, period);
    expect(r.indicators.map((i) => [i.kpi, i.value])).toEqual(
      r.indicators.map((i) => [i.kpi, kpis.find((e) => e.kpi === i.kpi)!.value]),
    );
    expect(r.indicators.length).toBe(kpis.length);
    for (const row of DEMO_TABLE.filter((x) => x.area === area && x.period === period)) {
      const value = r.indicators.find((i) => i.kpi === row.kpi)!.value!;
      expect([
        row.kpi,
        Math.abs(value - row.expected) <= 0.005 * Math.max(1, row.expected / 100),
      ]).toEqual([row.kpi, true]);
    }
    expect(r.approval.state).toBe('open');
  });

  it('renders to a PDF with headless Chromium, and to a CSV with the same numbers', async () => {
    const pdf = await report(area, period, '?format=pdf');
    expect([pdf.status, pdf.headers.get('content-type')?.split(';')[0]]).toEqual([
      200,
      'application/pdf',
    ]);
    const bytes = Buffer.from(await pdf.arrayBuffer());
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    expect(bytes.length).toBeGreaterThan(20_000);
    const raw = Buffer.from(await (await report(area, period, '?format=csv')).arrayBuffer());
    // the byte-order mark that makes Excel read UTF-8
    expect([...raw.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = parse<Record<string, string>>(raw.subarray(3), { columns: true });
    const kpis = await apiKpis(area, period);
    const own = rows.filter((row) => row.area === area);
    expect(own.map((row) => row.kpi).sort()).toEqual(kpis.map((e) => e.kpi).sort());
    for (const row of own)
      expect([row.kpi, Number(row.value)]).toEqual([
        row.kpi,
        kpis.find((e) => e.kpi === row.kpi)!.value,
      ]);
  });
});

describe('the report for Điện Biên, 2024-H1', () => {
  it('speaks Vietnamese by default and English on request, with the plan targets', async () => {
    const vi = await (await report('11', '2024-H1')).text();
    expect(vi).toContain('<html lang="vi">');
    expect(vi).toContain('Tỷ lệ hộ gia đình có kết nối Internet băng rộng cáp quang');
    expect(vi).toContain('>52<');
    expect(vi).toContain('Số liệu kỳ này chưa được phê duyệt chính thức');
    const en = await reportJson('11', '2024-H1', 'en');
    const fibre = en.indicators.find((i) => i.kpi === 'HH_FTTH_RATE')!;
    expect(fibre).toMatchObject({ name: 'Households with fibre broadband', value: 52 });
    expect(fibre.target).toMatchObject({ value: 55 });
    expect(fibre.target!.attainment).toBeCloseTo(52 / 55, 10);
    expect(en.indicators.find((i) => i.kpi === 'MOB_SUB_P100')!.notes).toContain(
      'inputs given as "more than" (a lower bound)',
    );
  });

  it('says the figures are official once the period is approved', async () => {
    const { body } = await callJson<{ token: string }>(
      hub.url('api', '/v1/tokens'),
      'POST',
      ADMIN_TOKEN,
      { name: 'dien-bien-approver', role: 'approver', provinces: ['11'] },
    );
    for (const action of ['submit', 'approve'])
      expect(
        (
          await callJson(
            hub.url('api', `/v1/approvals/11/2024-H1/${action}`),
            'POST',
            body.token,
            {},
          )
        ).status,
      ).toBe(200);
    const r = await reportJson('11', '2024-H1');
    expect(r.approval).toMatchObject({ state: 'approved', by: 'dien-bien-approver' });
    const html = await (await report('11', '2024-H1')).text();
    expect(html).toContain('data-approval="approved"');
    expect(html).toContain('Số liệu đã được phê duyệt bởi dien-bien-approver');
  });

  it('is written to HTML, PDF and CSV files by npm run hub -- report 11 2024-H1', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lgsp-report-'));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['scripts/hub.mjs', 'report', '11', '2024-H1', '--out', out],
      { env: { ...process.env, HUB_API_URL: hub.url('api', ''), ADMIN_TOKEN } },
    );
    for (const ext of ['html', 'csv', 'pdf'])
      expect(stdout).toContain(join(out, `report-11-2024-H1-vi.${ext}`));
    expect(readFileSync(join(out, 'report-11-2024-H1-vi.pdf')).subarray(0, 5).toString()).toBe(
      '%PDF-',
    );
    expect(readFileSync(join(out, 'report-11-2024-H1-vi.html'), 'utf8')).toContain('Điện Biên');
  });

  it('refuses what is not a province report, saying what to ask', async () => {
    const district = await report('111', '2024-H1');
    expect(district.status).toBe(400);
    const gone = await report('35', '2026-01', '?areaSet=2008');
    expect(gone.status).toBe(400);
    expect(((await gone.json()) as { message: string }).message).toContain('37');
    expect((await report('11', '2024-H1', '?format=docx')).status).toBe(400);
  });
});
