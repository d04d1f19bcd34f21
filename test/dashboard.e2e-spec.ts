/**
 * The dashboard in a real headless Chromium (Debian's `chromium`), against a running hub:
 * the figures it shows are the API's, the pipeline and sources panels are filled, it speaks
 * Vietnamese by default and English on its switch, and an approver moves a period through
 * review and approval on it; screenshots are saved to .data/test/dashboard*.png.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { lastDay, monthSpan, mustParsePeriod } from '@app/catalogue';
import type { KpiEvent } from '@app/contract';
import { eventually, FeedSender, type HubProcesses, kafkaClient, startTestHub } from '@app/testing';
import { type Browser, chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ADMIN_TOKEN = 'dashboard-admin-token-0123';
let hub: HubProcesses;
let run: string;
let browser: Browser;
let sender: FeedSender;

const feed = (source: string, id: string, period: string, observations: object[]) => ({
  schema: 'lgsp.feed.v1',
  feedId: `${id}-${run}`,
  source,
  sentAt: '2024-03-01T00:00:00Z',
  period,
  observations,
});

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `no Chromium at ${CHROMIUM}: install Debian's package (apt-get install chromium) or set CHROMIUM_PATH`,
    );
  ({ hub, run } = await startTestHub('dashboard', 13_400, { ADMIN_TOKEN }));
  sender = await new FeedSender(kafkaClient()).start();
  const plans = await fetch(hub.url('api', '/v1/plans'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({
      plans: [
        {
          planId: 'nb',
          issuingBody: 'UBND tỉnh Ninh Bình',
          documentNumber: 'KH 2023-2025',
          issuedOn: '2023-09-01',
          area: '37',
          targets: [
            { kpi: 'MBB_SUB_P100', period: '2025', value: 80, unit: 'percent' },
            { kpi: 'FBB_SUB_P100', period: '2025', value: 25 },
            { kpi: 'HH_FTTH_RATE', period: '2025', value: 80, unit: 'percent' },
          ],
        },
      ],
    }),
  });
  expect(plans.status).toBe(201);
  await sender.send([
    feed('gso', 'gso', '2023', [
      { area: '37', measure: 'population', value: 1_010_700 },
      // old Hà Nam and Nam Định: with old Ninh Bình, today's Ninh Bình (re-based history)
      { area: '35', measure: 'population', value: 860_000 },
      { area: '36', measure: 'population', value: 1_850_000 },
    ]),
  ]);
  await sender.send([
    feed('viettel', 'vt', '2023-06', [
      { area: '37', measure: 'mbb_subscriptions', value: 400_000 },
      { area: '37', measure: 'fbb_subscriptions', value: 120_000 },
    ]),
    feed('vnpt', 'vnpt', '2023-06', [
      { area: '37', measure: 'mbb_subscriptions', value: 294_250 },
      { area: '37', measure: 'fbb_subscriptions', value: 88_406 },
      { area: '35', measure: 'mbb_subscriptions', value: 500_000 },
      { area: '36', measure: 'mbb_subscriptions', value: 1_100_000 },
    ]),
    // today's Ninh Bình, after the reform
    feed('mobifone', 'mf-new', '2025-09', [
      { area: '37', measure: 'mbb_subscriptions', value: 2_600_000 },
    ]),
  ]);
  await sender.send(['{"schema": "lgsp.feed.v1"}'], () => 'viettel');
  await eventually(
    async () => {
      const r = await hub.getJson<{ items: KpiEvent[] }>(
        'api',
        '/v1/kpis?area=37&period=2023&kpi=FBB_SUB_P100',
      );
      const now = await hub.getJson<{ items: KpiEvent[] }>(
        'api',
        '/v1/kpis?area=37&areaSet=2025&period=2025-09&kpi=MBB_SUB_P100',
      );
      return r.items[0]?.numerator === 208_406 &&
        r.items[0].denominator !== null &&
        now.items[0]?.value !== undefined
        ? true
        : undefined;
    },
    { what: 'the KPIs of Ninh Bình' },
  );
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([sender?.stop(), hub?.stopAll()]);
});

/** What the page shows per KPI: its latest period (ties: the longer one). */
function latestPerKpi(items: KpiEvent[]): Map<string, KpiEvent> {
  const key = (p: string) => {
    const period = mustParsePeriod(p);
    const [start, end] = monthSpan(period);
    return `${lastDay(period)}|${String(12 - (end - start)).padStart(2, '0')}`;
  };
  const out = new Map<string, KpiEvent>();
  for (const e of items) {
    const cur = out.get(e.kpi);
    if (!cur || key(e.period) > key(cur.period)) out.set(e.kpi, e);
  }
  return out;
}

describe('the dashboard', () => {
  it("shows a province's KPIs as the API has them, against their targets, with a chart each", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(hub.url('api', '/dashboard?area=2008:37&lang=en'));
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });

    const api = latestPerKpi(
      (await hub.getJson<{ items: KpiEvent[] }>('api', '/v1/kpis?area=37&areaSet=2008')).items,
    );
    const rows = await page.locator('#kpis tr').evaluateAll((trs) =>
      trs.map((tr) => ({
        kpi: tr.getAttribute('data-kpi'),
        period: tr.getAttribute('data-period'),
        value: tr.querySelector('.value')?.textContent,
        attainment: tr.querySelector('.attainment')?.textContent?.trim(),
        status: tr.children[4]?.textContent,
      })),
    );
    // a target with no figures yet shows as such
    const pending = rows.filter((r) => r.status === 'no figures reported');
    expect(pending.map((r) => [r.kpi, r.value])).toEqual([['HH_FTTH_RATE', '—']]);
    const shown = rows.filter((r) => r.status !== 'no figures reported');
    expect(shown.map((r) => r.kpi).sort()).toEqual([...api.keys()].sort());
    for (const r of shown) {
      const e = api.get(r.kpi)!;
      expect([r.kpi, r.period, r.value]).toEqual([
        e.kpi,
        e.period,
        e.value === null ? '—' : e.value.toFixed(2),
      ]);
    }
    const mbb = rows.find((r) => r.kpi === 'MBB_SUB_P100')!;
    expect(mbb.value).toBe('68.69');
    expect(mbb.attainment).toBe(`${((api.get('MBB_SUB_P100')!.value! / 80) * 100).toFixed(1)} %`);
    expect(await page.locator('[data-chart="MBB_SUB_P100"] circle').count()).toBeGreaterThanOrEqual(
      1,
    );

    // pipeline and sources
    const services = await page
      .locator('#services tr')
      .evaluateAll((trs) =>
        trs.map((tr) => [tr.getAttribute('data-service'), tr.children[1]?.textContent]),
      );
    expect(services).toEqual([
      ['ingest', 'healthy'],
      ['aggregator', 'healthy'],
      ['relay', 'healthy'],
      ['api', 'healthy'],
    ]);
    const pipeline = await hub.getJson<{ dlq: { records: number } }>('api', '/v1/pipeline');
    expect(pipeline.dlq.records).toBeGreaterThanOrEqual(1);
    expect(Number(await page.locator('#dlq').textContent())).toBe(pipeline.dlq.records);
    const viettel = page.locator('#source-rows tr[data-source="viettel"] td');
    expect(await viettel.nth(2).textContent()).toBe('2023-06');
    expect(await viettel.nth(4).textContent()).toBe('late');

    mkdirSync('.data/test', { recursive: true });
    await page.screenshot({ path: '.data/test/dashboard.png', fullPage: true });
  });

  it("lists today's 34 provinces first, their series re-based across the reform, and the 63 old ones after", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(hub.url('api', '/dashboard?area=37&lang=en'));
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    expect(await page.locator('body').getAttribute('data-province')).toBe('2025:37');
    const groups = await page
      .locator('#area optgroup')
      .evaluateAll((gs) => gs.map((g) => g.querySelectorAll('option').length));
    expect(groups.slice(0, 2)).toEqual([34, 63]);
    expect(await page.locator('#area option').first().getAttribute('value')).toMatch(/^2025:/);

    // MBB_SUB_P100 by half (its latest figure is 2025-H2): 2023-H1 re-based (hollow), 2025-H2 as
    // published, and the reform marked between them
    const points = await page
      .locator('[data-chart="MBB_SUB_P100"] circle')
      .evaluateAll((cs) =>
        cs.map((c) => [c.getAttribute('data-period'), c.getAttribute('data-basis')]),
      );
    expect(points).toEqual([
      ['2023-H1', 'rebased'],
      ['2025-H2', 'published'],
    ]);
    expect(await page.locator('[data-chart="MBB_SUB_P100"] .reform').count()).toBe(1);
    expect(await page.locator('#unit-note').textContent()).toMatch(/re-based/);
  });

  it('shows all 34 provinces at once for a KPI and period, ranked, as the API has them', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1400 } });
    await page.goto(hub.url('api', '/dashboard?kpi=MBB_SUB_P100&lang=en'));
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    await page.selectOption('#national-period', '2023-06');
    await page.waitForSelector('body[data-national="MBB_SUB_P100|2023-06"]');
    const rows = await page
      .locator('#national-rows tr')
      .evaluateAll((trs) =>
        trs.map((tr) => [tr.getAttribute('data-area'), tr.querySelector('.value')?.textContent]),
      );
    expect(rows).toHaveLength(34);
    const rebased = (
      await hub.getJson<{ items: KpiEvent[] }>(
        'api',
        '/v1/kpis?kpi=MBB_SUB_P100&period=2023-06&basis=rebased&level=province',
      )
    ).items;
    expect(rebased.map((e) => e.area)).toEqual(['37']);
    // today's Ninh Bình first, with the re-based figure; the rest have none
    expect(rows[0]).toEqual(['37', rebased[0]!.value!.toFixed(2)]);
    expect(rows.slice(1).every(([, v]) => v === '—')).toBe(true);
    expect(await page.locator('#national-note').textContent()).toMatch(/re-based/);
    await page.screenshot({ path: '.data/test/dashboard-national.png', fullPage: true });
  });

  it('speaks Vietnamese by default, KPI names as the criteria word them, and English on its switch', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(hub.url('api', '/dashboard?area=2008:37'));
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    expect(await page.locator('html').getAttribute('lang')).toBe('vi');
    expect(await page.locator('h1').textContent()).toBe('Hệ thống tích hợp số liệu hạ tầng số');
    const mbb = page.locator('#kpis tr[data-kpi="MBB_SUB_P100"] td');
    expect(await mbb.nth(0).textContent()).toBe('Số thuê bao băng rộng di động trên 100 dân');
    expect(await mbb.nth(2).textContent()).toBe('68,69');
    expect(await mbb.nth(3).textContent()).toBe('thuê bao/100 dân');
    expect(await page.locator('#services tr[data-service="api"] td').nth(1).textContent()).toBe(
      'hoạt động tốt',
    );
    await page.click('#lang');
    await page.waitForSelector('html[lang="en"] body[data-ready="true"]', { timeout: 30_000 });
    expect(await mbb.nth(0).textContent()).toBe(
      'Mobile broadband subscriptions per 100 inhabitants',
    );
    expect(await mbb.nth(2).textContent()).toBe('68.69');
  });

  it('lets an approver submit, approve and re-open a period, and shows what is pending', async () => {
    const created = await fetch(hub.url('api', '/v1/tokens'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ name: 'ninh-binh-stic', role: 'approver', provinces: ['37'] }),
    });
    const { token } = (await created.json()) as { token: string };
    const page = await browser.newPage({ viewport: { width: 1400, height: 1200 } });
    await page.goto(hub.url('api', `/dashboard?area=2008:37&token=${token}`));
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    const row = page.locator('#approval-rows tr[data-period="2023"]');
    expect(await row.getAttribute('data-state')).toBe('open');
    expect(await row.locator('.state').textContent()).toBe('đang mở');

    const moveTo = async (action: string, state: string, reason?: string) => {
      if (reason) await row.locator('input.reason').fill(reason);
      await row.locator(`button[data-action="${action}"]`).click();
      await page.waitForSelector(`#approval-rows tr[data-period="2023"][data-state="${state}"]`);
    };
    await moveTo('submit', 'submitted');
    await moveTo('approve', 'approved');
    // the API agrees: the year and the periods it is built from are approved, by this token
    const approvals = (
      await hub.getJson<{ items: { period: string; state: string; by: string }[] }>(
        'api',
        '/v1/approvals?area=37&areaSet=2008',
      )
    ).items;
    expect(approvals.filter((a) => a.state === 'approved').map((a) => a.period)).toContain(
      '2023-06',
    );
    expect(approvals.every((a) => a.by === 'ninh-binh-stic')).toBe(true);
    expect(
      await page.locator('#approval-rows tr[data-period="2023-06"] td').nth(6).textContent(),
    ).toBe('cùng với 2023');

    // a late correction is held: the approved figure stays, the new one is pending
    const before = (
      await hub.getJson<{ items: KpiEvent[] }>(
        'api',
        '/v1/kpis?area=37&areaSet=2008&period=2023&kpi=MBB_SUB_P100',
      )
    ).items[0]!;
    await sender.send([
      {
        ...feed('viettel', 'vt-fix', '2023-06', [
          { area: '37', measure: 'mbb_subscriptions', value: 410_000 },
        ]),
        sentAt: '2024-04-01T00:00:00Z',
      },
    ]);
    const held = await eventually(
      async () =>
        (
          await hub.getJson<{ items: KpiEvent[] }>(
            'api',
            '/v1/kpis?area=37&areaSet=2008&period=2023&kpi=MBB_SUB_P100',
          )
        ).items[0]?.pending,
      { what: 'the correction held as pending' },
    );
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    const mbb = page.locator('#kpis tr[data-kpi="MBB_SUB_P100"]');
    expect(await mbb.locator('.value').textContent()).toBe(
      before.value!.toLocaleString('vi-VN', { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
    );
    expect(await mbb.locator('.pending').textContent()).toBe(
      held.value!.toLocaleString('vi-VN', { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
    );
    expect(Number(await row.locator('.pending-count').textContent())).toBeGreaterThan(0);

    // re-opening needs a reason; then the corrected figure is the one shown
    await row.locator('button[data-action="reopen"]').click();
    await page.waitForSelector('#approval-status.bad');
    expect(await page.locator('#approval-status').textContent()).toContain('reason');
    await moveTo('reopen', 'open', 'Viettel sửa số liệu tháng 6');
    expect(await row.locator('td').nth(3).textContent()).toBe('Viettel sửa số liệu tháng 6');
    await eventually(
      async () =>
        (await mbb.locator('.value').textContent()) ===
          held.value!.toLocaleString('vi-VN', {
            minimumFractionDigits: 2,
            maximumFractionDigits: 2,
          }) || undefined,
      { what: 'the corrected figure shown' },
    );
    // submitted again, and returned with a reason
    await moveTo('submit', 'submitted');
    await moveTo('return', 'open', 'thiếu số liệu MobiFone');
    expect(await row.locator('td').nth(3).textContent()).toBe('thiếu số liệu MobiFone');
    await page.screenshot({ path: '.data/test/dashboard-approval.png', fullPage: true });
  });
});
