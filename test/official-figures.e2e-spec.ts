/**
 * Official figures and the provincial report (issue 27), on the built services, a real
 * broker, a real PostgreSQL and a real headless Chromium, one hub for both:
 * - Lai Châu's (12) first quarter of 2024 goes through submit, approve, a late correction held
 *   as pending, re-open and approve again. At every step the KPI events on lgsp.kpi.v1, the
 *   query API and the official reads agree; every move is in the admin log.
 * - The demo's feeds and the seed plans in, the reports of the two seed reports out (Điện Biên
 *   2024-H1, Ninh Thuận 2023-Q1) as HTML, PDF and CSV, Vietnamese and English, with the query
 *   API's figures; `npm run hub -- report` writes the three files.
 */
import { AdminUnits } from '@app/catalogue';
import type { KpiEvent } from '@app/contract';
import {
  callJson,
  eventually,
  FeedSender,
  type HubProcesses,
  kafkaClient,
  recomputeKeys,
  startTestHub,
  type TestFeed,
  testFeed,
  type TestFeedArgs,
  TopicWatcher,
} from '@app/testing';
import { parse } from 'csv-parse/sync';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEMO_TABLE, demoFeeds, REPORT_DEMOS } from '../scripts/demo/demo-feeds.mjs';

const ADMIN_TOKEN = 'e2e-admin-token-official-0123456789';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const units = AdminUnits.load('data/admin-units');
/** The province whose quarter is approved here (the demo's are 11, 37 and 58). */
const P = '12';
const DISTRICT = units.all('2008').find((u) => u.level === 'district' && u.province === P)!;
const Q1 = ['2024-Q1', '2024-01', '2024-02', '2024-03'];

let run: string;
let hub: HubProcesses;
let sender: FeedSender;
let topic: TopicWatcher;
const sent: TestFeed[] = [];
const token: Record<string, string> = {};

const feed = (...args: TestFeedArgs): TestFeed => testFeed(run, ...args);

async function send(...feeds: TestFeed[]): Promise<void> {
  sent.push(...feeds);
  await sender.send(feeds);
}

const mbb = (province: number, district: number) => [
  { area: P, measure: 'mbb_subscriptions', value: province },
  { area: DISTRICT.code, measure: 'mbb_subscriptions', value: district },
];

const call = (method: string, path: string, who: string, body?: unknown) =>
  callJson<Record<string, unknown>>(hub.url('api', path), method, token[who]!, body);
const move = (action: string, period = '2024-Q1', who = 'approver', body: unknown = {}) =>
  call('POST', `/v1/approvals/${P}/${period}/${action}`, who, body);

const items = async (path: string) => (await hub.getJson<{ items: KpiEvent[] }>('api', path)).items;
const q1Kpis = async (extra = '') =>
  (await items(`/v1/kpis?kpi=MBB_SUB_P100&areaSet=2008${extra}`)).filter(
    (e) => (e.area === P || e.area === DISTRICT.code) && Q1.includes(e.period),
  );

/** Waits until the topic's latest event of each of the 8 keys is the API's, and returns them. */
async function agreed(what: string, test: (e: KpiEvent) => boolean): Promise<KpiEvent[]> {
  return eventually(
    async () => {
      const api = await q1Kpis();
      const latest = topic.latestByKey<KpiEvent>();
      if (api.length !== 8 || !api.every(test)) return undefined;
      for (const e of api) {
        const t = latest.get(`${e.kpi}|${e.area}|${e.period}`);
        if (!t || t.revision !== e.revision) return undefined;
        const { target: _a, ...fromTopic } = t;
        const { target: _b, ...fromApi } = e;
        expect(fromApi).toEqual(fromTopic);
      }
      return api;
    },
    { what },
  );
}

const byKey = (events: KpiEvent[]) => new Map(events.map((e) => [`${e.area}|${e.period}`, e]));

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
  ({ hub, run } = await startTestHub('official', 14_300, { ADMIN_TOKEN, CHROMIUM_PATH: CHROMIUM }));
  token.admin = ADMIN_TOKEN;
  for (const [name, role, provinces] of [
    ['approver', 'approver', [P]],
    ['other-approver', 'approver', ['37']],
    ['reader', 'reader', undefined],
  ] as const) {
    const r = await call('POST', '/v1/tokens', 'admin', {
      name: `${name}-${run}`,
      role,
      ...(provinces ? { provinces } : {}),
    });
    expect(r.status).toBe(201);
    token[name] = r.body.token as string;
  }
  const kafka = kafkaClient();
  topic = await eventually(() => new TopicWatcher(kafka, 'lgsp.kpi.v1').start('now'));
  sender = await new FeedSender(kafka).start();
  const at = '2026-11-01T00:00:00Z';
  await send(
    feed('gso', 'gso-2024', at, '2024', [
      { area: P, measure: 'population', value: 650_000 },
      { area: DISTRICT.code, measure: 'population', value: 50_000 },
    ]),
    ...['01', '02', '03'].flatMap((m, i) => [
      feed('viettel', `vt-2024-${m}`, at, `2024-${m}`, mbb(300_000 + i * 1_000, 20_000 + i * 100)),
      feed('vnpt', `vnpt-2024-${m}`, at, `2024-${m}`, mbb(100_000 + i * 1_000, 5_000 + i * 100)),
    ]),
  );
  const { plans } = JSON.parse(readFileSync('data/plans/seed-plans.json', 'utf8')) as {
    plans: unknown[];
  };
  expect((await callJson(hub.url('api', '/v1/plans'), 'POST', ADMIN_TOKEN, { plans })).status).toBe(
    201,
  );
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
  await agreed('the first quarter on the topic and in the API', (e) => e.value !== null);
});

afterAll(async () => {
  await Promise.all([sender?.stop(), topic?.stop(), hub?.stopAll()]);
});

describe("a province's quarter through review and approval", () => {
  let approved: Map<string, KpiEvent>;

  it('refuses moves that do not start from the state, and tokens that may not approve 12', async () => {
    expect(await move('approve')).toMatchObject({
      status: 409,
      body: { code: 'APPROVAL_NOT_ALLOWED' },
    });
    expect((await move('submit', '2024-Q1', 'reader')).status).toBe(403);
    const other = await move('submit', '2024-Q1', 'other-approver');
    expect(other.status).toBe(403);
    expect(other.body.message).toContain(`not ${P}`);
    expect((await call('POST', '/v1/approvals/121/2024-Q1/submit', 'approver', {})).status).toBe(
      400,
    );
    expect((await move('bless')).status).toBe(400);
    // nothing moved
    expect((await items(`/v1/approvals?area=${P}`)).length).toBe(0);
  });

  it('submits: every key of the province and its units in the quarter and its months says so', async () => {
    const r = await move('submit');
    expect(r).toMatchObject({
      status: 200,
      body: { area: P, areaSet: '2008', periods: Q1, events: 8 },
    });
    const events = await agreed('submitted events', (e) => e.approval?.state === 'submitted');
    const month = byKey(events).get(`${P}|2024-02`)!;
    expect(month.approval).toMatchObject({ state: 'submitted', period: '2024-Q1' });
    expect(month.approval!.by).toBe(`approver-${run}`);
    expect(await q1Kpis('&official=true')).toEqual([]);
  });

  it('approves: the figures as they stand become official, in the API and the change feed', async () => {
    const before = byKey(await q1Kpis());
    expect((await move('approve')).status).toBe(200);
    const events = await agreed('approved events', (e) => e.approval?.state === 'approved');
    approved = byKey(events);
    for (const [k, e] of approved) {
      expect([k, e.value, e.numerator]).toEqual([
        k,
        before.get(k)!.value,
        before.get(k)!.numerator,
      ]);
      expect(e.pending).toBeUndefined();
    }
    expect(approved.get(`${P}|2024-Q1`)).toMatchObject({
      numerator: 404_000,
      denominator: 650_000,
      value: (404_000 / 650_000) * 100,
    });
    const official = await q1Kpis('&official=true');
    expect(official.map((e) => e.revision).sort()).toEqual(events.map((e) => e.revision).sort());
    const feed = await hub.getJson<{ items: KpiEvent[] }>(
      'api',
      '/v1/kpi-changes?official=true&limit=10000',
    );
    expect(feed.items.map((e) => `${e.area}|${e.period}|${e.revision}`).sort()).toEqual(
      events.map((e) => `${e.area}|${e.period}|${e.revision}`).sort(),
    );
  });

  it('holds a late correction as pending: the approved figure stays the official one', async () => {
    await send(
      feed('viettel', 'vt-2024-03-fix', '2026-11-02T00:00:00Z', '2024-03', mbb(310_000, 21_000)),
    );
    const events = await agreed('the correction pending', (e) =>
      e.period === '2024-03' || e.period === '2024-Q1'
        ? e.pending !== undefined
        : e.pending === undefined,
    );
    const q1 = byKey(events).get(`${P}|2024-Q1`)!;
    const recomputed = recomputeKeys(sent, units, [
      { kpi: 'MBB_SUB_P100', bs: '2008', area: P, period: '2024-Q1' },
    ])[0]!;
    expect(q1).toMatchObject({
      approval: { state: 'approved' },
      value: approved.get(`${P}|2024-Q1`)!.value,
      numerator: 404_000,
      pending: { numerator: 412_000, denominator: 650_000, value: recomputed.value },
    });
    expect(q1.pending!.value).toBeCloseTo((412_000 / 650_000) * 100, 10);
    const official = byKey(await q1Kpis('&official=true'));
    expect(official.get(`${P}|2024-Q1`)!.value).toBe(approved.get(`${P}|2024-Q1`)!.value);
    // a month approved with the quarter moves only with it
    expect(await move('reopen', '2024-03', 'approver', { reason: 'x' })).toMatchObject({
      status: 409,
      body: { code: 'APPROVAL_PART_OF_LARGER_PERIOD' },
    });
    expect((await move('approve')).status).toBe(409);
  });

  it('re-opens with a reason: the latest computation is the figure again, and not official', async () => {
    expect(await move('reopen')).toMatchObject({
      status: 400,
      body: { code: 'APPROVAL_REASON_REQUIRED' },
    });
    expect(
      (await move('reopen', '2024-Q1', 'approver', { reason: 'Viettel corrected March' })).status,
    ).toBe(200);
    const events = await agreed('re-opened events', (e) => e.approval?.state === 'open');
    const q1 = byKey(events).get(`${P}|2024-Q1`)!;
    expect(q1).toMatchObject({
      numerator: 412_000,
      approval: { state: 'open', reason: 'Viettel corrected March' },
    });
    expect(q1.pending).toBeUndefined();
    expect(await q1Kpis('&official=true')).toEqual([]);
  });

  it('approves again: the corrected figures are the official ones, and every move is in the admin log', async () => {
    expect((await move('submit')).status).toBe(200);
    expect((await move('approve')).status).toBe(200);
    const events = await agreed(
      'approved again',
      (e) => e.approval?.state === 'approved' && e.pending === undefined,
    );
    expect(byKey(events).get(`${P}|2024-Q1`)).toMatchObject({ numerator: 412_000 });
    expect(byKey(await q1Kpis('&official=true')).get(`${P}|2024-Q1`)!.numerator).toBe(412_000);
    const states = await items(`/v1/approvals?area=${P}`);
    expect(states.map((s) => [s.period, (s as unknown as { state: string }).state]).sort()).toEqual(
      Q1.map((p) => [p, 'approved']).sort(),
    );
    // a year does not take along a quarter approved on its own
    expect(await move('submit', '2024')).toMatchObject({
      status: 409,
      body: { code: 'APPROVAL_PARTS_DIFFER' },
    });
    const log = await call('GET', `/v1/admin-actions?target=approval:2008:${P}:2024-Q1`, 'admin');
    const actions = (log.body.items as { action: string; actor: string }[]).map((a) => a.action);
    expect(actions.sort()).toEqual(
      ['approve', 'approve', 'reopen', 'submit', 'submit'].map((a) => `approval.${a}`),
    );
    expect(
      (log.body.items as { actor: string }[]).every((a) => a.actor === `approver-${run}`),
    ).toBe(true);
  });
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
