/**
 * Official figures (issue 27), on the built services, a real broker and a real PostgreSQL:
 * Điện Biên's (11) first quarter of 2024 goes through submit, approve, a late correction held
 * as pending, re-open and approve again. At every step the KPI events on lgsp.kpi.v1, the
 * query API and the official reads agree; every move is in the admin log.
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

const ADMIN_TOKEN = 'e2e-admin-token-official-0123456789';
const units = AdminUnits.load('data/admin-units');
const DISTRICT = units.all('2008').find((u) => u.level === 'district' && u.province === '11')!;
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
  { area: '11', measure: 'mbb_subscriptions', value: province },
  { area: DISTRICT.code, measure: 'mbb_subscriptions', value: district },
];

const call = (method: string, path: string, who: string, body?: unknown) =>
  callJson<Record<string, unknown>>(hub.url('api', path), method, token[who]!, body);
const move = (action: string, period = '2024-Q1', who = 'approver', body: unknown = {}) =>
  call('POST', `/v1/approvals/11/${period}/${action}`, who, body);

const items = async (path: string) => (await hub.getJson<{ items: KpiEvent[] }>('api', path)).items;
const q1Kpis = async (extra = '') =>
  (await items(`/v1/kpis?kpi=MBB_SUB_P100&areaSet=2008${extra}`)).filter(
    (e) => (e.area === '11' || e.area === DISTRICT.code) && Q1.includes(e.period),
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

beforeAll(async () => {
  ({ hub, run } = await startTestHub('official', 14_300, { ADMIN_TOKEN }));
  token.admin = ADMIN_TOKEN;
  for (const [name, role, provinces] of [
    ['approver', 'approver', ['11']],
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
      { area: '11', measure: 'population', value: 650_000 },
      { area: DISTRICT.code, measure: 'population', value: 50_000 },
    ]),
    ...['01', '02', '03'].flatMap((m, i) => [
      feed('viettel', `vt-2024-${m}`, at, `2024-${m}`, mbb(300_000 + i * 1_000, 20_000 + i * 100)),
      feed('vnpt', `vnpt-2024-${m}`, at, `2024-${m}`, mbb(100_000 + i * 1_000, 5_000 + i * 100)),
    ]),
  );
  await agreed('the first quarter on the topic and in the API', (e) => e.value !== null);
});

afterAll(async () => {
  await Promise.all([sender?.stop(), topic?.stop(), hub?.stopAll()]);
});

describe("a province's quarter through review and approval", () => {
  let approved: Map<string, KpiEvent>;

  it('refuses moves that do not start from the state, and tokens that may not approve 11', async () => {
    expect(await move('approve')).toMatchObject({
      status: 409,
      body: { code: 'APPROVAL_NOT_ALLOWED' },
    });
    expect((await move('submit', '2024-Q1', 'reader')).status).toBe(403);
    const other = await move('submit', '2024-Q1', 'other-approver');
    expect(other.status).toBe(403);
    expect(other.body.message).toContain('not 11');
    expect((await call('POST', '/v1/approvals/111/2024-Q1/submit', 'approver', {})).status).toBe(
      400,
    );
    expect((await move('bless')).status).toBe(400);
    // nothing moved
    expect((await items('/v1/approvals?area=11')).length).toBe(0);
  });

  it('submits: every key of the province and its units in the quarter and its months says so', async () => {
    const r = await move('submit');
    expect(r).toMatchObject({
      status: 200,
      body: { area: '11', areaSet: '2008', periods: Q1, events: 8 },
    });
    const events = await agreed('submitted events', (e) => e.approval?.state === 'submitted');
    const month = byKey(events).get('11|2024-02')!;
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
    expect(approved.get('11|2024-Q1')).toMatchObject({
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
    const q1 = byKey(events).get('11|2024-Q1')!;
    const recomputed = recomputeKeys(sent, units, [
      { kpi: 'MBB_SUB_P100', bs: '2008', area: '11', period: '2024-Q1' },
    ])[0]!;
    expect(q1).toMatchObject({
      approval: { state: 'approved' },
      value: approved.get('11|2024-Q1')!.value,
      numerator: 404_000,
      pending: { numerator: 412_000, denominator: 650_000, value: recomputed.value },
    });
    expect(q1.pending!.value).toBeCloseTo((412_000 / 650_000) * 100, 10);
    const official = byKey(await q1Kpis('&official=true'));
    expect(official.get('11|2024-Q1')!.value).toBe(approved.get('11|2024-Q1')!.value);
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
    const q1 = byKey(events).get('11|2024-Q1')!;
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
    expect(byKey(events).get('11|2024-Q1')).toMatchObject({ numerator: 412_000 });
    expect(byKey(await q1Kpis('&official=true')).get('11|2024-Q1')!.numerator).toBe(412_000);
    const states = await items('/v1/approvals?area=11');
    expect(states.map((s) => [s.period, (s as unknown as { state: string }).state]).sort()).toEqual(
      Q1.map((p) => [p, 'approved']).sort(),
    );
    // a year does not take along a quarter approved on its own
    expect(await move('submit', '2024')).toMatchObject({
      status: 409,
      body: { code: 'APPROVAL_PARTS_DIFFER' },
    });
    const log = await call('GET', '/v1/admin-actions?target=approval:2008:11:2024-Q1', 'admin');
    const actions = (log.body.items as { action: string; actor: string }[]).map((a) => a.action);
    expect(actions.sort()).toEqual(
      ['approve', 'approve', 'reopen', 'submit', 'submit'].map((a) => `approval.${a}`),
    );
    expect(
      (log.body.items as { actor: string }[]).every((a) => a.actor === `approver-${run}`),
    ).toBe(true);
  });
});
