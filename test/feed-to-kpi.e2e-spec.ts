/**
 * The hub as a user runs it: the built services as processes, a real Kafka broker, a real
 * PostgreSQL. Feeds go in on lgsp.feeds.v1; we read lgsp.kpi.v1, the DLQ and the API.
 */
import {
  eventually,
  FeedSender,
  type HubProcesses,
  kafkaClient,
  startTestHub,
  TopicWatcher,
} from '@app/testing';
import { AdminUnits } from '@app/catalogue';

const units = AdminUnits.load('data/admin-units');
import type { KpiEvent } from '@app/contract';
import type { Kafka } from 'kafkajs';

let run: string;
let hub: HubProcesses;
let kafka: Kafka;
let kpis: TopicWatcher;
let dlq: TopicWatcher;
let sender: FeedSender;

const feed = (
  source: string,
  feedId: string,
  sentAt: string,
  period: string,
  observations: object[],
  status = 'actual',
) => ({
  schema: 'lgsp.feed.v1',
  feedId: `${feedId}-${run}`,
  source,
  sentAt,
  period,
  status,
  observations,
});

const events = (key: string): KpiEvent[] =>
  kpis
    .byKey(key)
    .map((r) => r.json<KpiEvent>())
    .sort((a, b) => a.revision - b.revision);

const revision = (key: string, rev: number, what = `${key} revision ${rev}`) =>
  eventually(() => events(key).find((e) => e.revision === rev), { what });

/**
 * Feeds of one source go through one partition end to end, in order: once the event of a
 * later probe feed is out, every feed sent before it has been processed.
 */
async function probe(source: string, n: number): Promise<void> {
  const period = `2019-${String(n).padStart(2, '0')}`;
  await sender.send([
    feed(source, `probe-${n}`, '2020-01-01T00:00:00Z', period, [
      { area: '01', measure: 'mbb_subscriptions', value: n },
    ]),
  ]);
  await revision(`MBB_SUB_P100|01|${period}`, 1, `probe ${n}`);
}

beforeAll(async () => {
  ({ hub, run } = await startTestHub('e2e', 13_000));
  kafka = kafkaClient();
  kpis = await new TopicWatcher(kafka, 'lgsp.kpi.v1').start();
  dlq = await new TopicWatcher(kafka, 'lgsp.feeds.dlq.v1').start();
  sender = await new FeedSender(kafka).start();
});

afterAll(async () => {
  await sender?.stop();
  await kpis?.stop();
  await dlq?.stop();
  await hub?.stopAll();
});

describe('a feed on lgsp.feeds.v1', () => {
  const q1 = '2023-Q1';
  const viettel = feed(
    'viettel',
    'vt-58-2023q1',
    '2023-04-10T08:00:00+07:00',
    q1,
    [
      { area: '58', measure: 'mbb_subscriptions', value: 252_906 },
      { area: '58', measure: 'fbb_subscriptions', value: 84_737 },
      { area: '58', measure: 'mobile_subscriptions', value: 645_437, qualifier: '~' },
    ],
    'estimate',
  );

  it('has no value until there is a population, then the value from numerator and denominator', async () => {
    await sender.send([viettel]);
    const before = await revision(`MBB_SUB_P100|58|${q1}`, 1);
    expect(before.value).toBeNull();
    expect(before.numerator).toBe(252_906);
    expect(before.note).toMatch(/no population for 58/);
    await sender.send([
      feed('gso', 'gso-58-2021', '2022-03-01T00:00:00Z', '2021', [
        { area: '58', measure: 'population', value: 596_049 },
      ]),
    ]);
    const mbb = await revision(`MBB_SUB_P100|58|${q1}`, 2);
    expect(mbb.value).toBeCloseTo(42.43, 2);
    expect(mbb.numerator).toBe(252_906);
    expect(mbb.denominator).toBe(596_049);
    expect(mbb.denominatorPeriod).toBe('2021');
    expect(mbb.status).toBe('provisional');
    expect(mbb.inputs).toContainEqual({
      source: 'viettel',
      feedId: viettel.feedId,
      measure: 'mbb_subscriptions',
    });
    expect((await revision(`FBB_SUB_P100|58|${q1}`, 2)).value).toBeCloseTo(14.22, 2);
    const mob = await revision(`MOB_SUB_P100|58|${q1}`, 2);
    expect(mob.value).toBeCloseTo(108.29, 2);
    expect(mob.inputs).toContainEqual(
      expect.objectContaining({ measure: 'mobile_subscriptions', qualifier: '~' }),
    );
    // the quarter rolls up into its half and year as the latest stock of the year
    expect((await revision(`MBB_SUB_P100|58|2023`, 2)).numerator).toBe(252_906);
  });

  it('is ignored when its (source, feedId) comes again: no event', async () => {
    const again = {
      ...viettel,
      observations: [{ area: '58', measure: 'mbb_subscriptions', value: 1 }],
    };
    await sender.send([again, viettel]);
    await probe('viettel', 1);
    expect(events(`MBB_SUB_P100|58|${q1}`)).toHaveLength(2);
  });

  it('is replaced by a later correction: the next revision with the new value, not the sum', async () => {
    await sender.send([
      feed(
        'viettel',
        'vt-58-2023q1-fix',
        '2023-04-20T08:00:00+07:00',
        q1,
        [{ area: '58', measure: 'mbb_subscriptions', value: 260_000 }],
        'estimate',
      ),
    ]);
    const fixed = await revision(`MBB_SUB_P100|58|${q1}`, 3);
    expect(fixed.numerator).toBe(260_000);
    expect(fixed.value).toBeCloseTo((260_000 / 596_049) * 100, 10);
  });

  it('is not overwritten by an older correction that arrives late', async () => {
    await sender.send([
      feed(
        'viettel',
        'vt-58-2023q1-old',
        '2023-04-15T08:00:00+07:00',
        q1,
        [{ area: '58', measure: 'mbb_subscriptions', value: 999_999 }],
        'estimate',
      ),
    ]);
    await probe('viettel', 2);
    const all = events(`MBB_SUB_P100|58|${q1}`);
    expect(all.map((e) => e.revision)).toEqual([1, 2, 3]);
    expect(all.at(-1)!.numerator).toBe(260_000);
  });

  it('is retracted by a null value: the KPI loses its value and says why', async () => {
    await sender.send([
      feed('viettel', 'vt-58-2023q1-retract', '2023-04-25T08:00:00+07:00', q1, [
        { area: '58', measure: 'fbb_subscriptions', value: null },
      ]),
    ]);
    const gone = await revision(`FBB_SUB_P100|58|${q1}`, 3);
    expect(gone.value).toBeNull();
    expect(gone.numerator).toBeNull();
    expect(gone.note).toMatch(/no data for fbb_subscriptions/);
  });
});

describe('a feed of the largest size the contract allows', () => {
  it('goes through: 10,000 observations, several MB, over Kafka’s default 1 MB record limit', async () => {
    const communes = units
      .all('2008')
      .filter((u) => u.level === 'commune')
      .slice(0, 1_250);
    const code = (c: string, i: number) => `${c}-${String(i).padStart(2, '0')}-${'x'.repeat(52)}`;
    const observations = communes.flatMap((c) => [
      ...[
        'mobile_subscriptions',
        'mbb_subscriptions',
        'smartphone_subscriptions',
        'fbb_subscriptions',
        'ftth_household_subscriptions',
        'telecom_revenue_vnd',
      ].map((measure) => ({ area: c.code, measure, value: 1_000 })),
      {
        area: c.code,
        measure: 'villages_mbb_covered',
        items: Array.from({ length: 20 }, (_, i) => code(c.code, i)),
      },
      {
        area: c.code,
        measure: 'bts_sites',
        items: Array.from({ length: 20 }, (_, i) => code(c.code, i)),
      },
    ]);
    const big = feed('mobifone', 'mobifone-big', '2022-07-05T00:00:00Z', '2022-06', observations);
    expect(observations).toHaveLength(10_000);
    expect(Buffer.byteLength(JSON.stringify(big))).toBeGreaterThan(2 * 1024 * 1024);
    await sender.send([big]);
    const first = communes[0]!;
    // One 10,000-observation feed is one long transaction: give it time on a loaded machine.
    const key = `MBB_SUB_P100|${first.code}|2022-06`;
    const e = await eventually(() => events(key).find((x) => x.revision === 1), {
      timeoutMs: 90_000,
      what: `${key} revision 1`,
    });
    expect(e.numerator).toBe(1_000);
    const province = await eventually(
      () => events(`BTS_SITE_SHARE|${first.province}|2022`).at(-1),
      { timeoutMs: 60_000, what: 'the province-level KPI of the big feed' },
    );
    expect(province.denominator).toBe(
      communes.filter((c) => c.province === first.province).length * 20,
    );
  }, 180_000);
});

describe('a bad feed', () => {
  it('goes to the DLQ unchanged with every reason, and good feeds keep flowing', async () => {
    const bad = JSON.stringify(
      feed('vnpt', 'bad one', 'yesterday', '2024-13', [
        { area: '99', measure: 'mbb_subscriptions', value: -5 },
        { area: '11', measure: 'bts_sites', value: 3 },
      ]),
    );
    const notJson = '{"schema": "lgsp.feed.v1", "value": NaN}';
    const good = feed('vnpt', 'vnpt-11-2024h1', '2024-07-05T08:00:00+07:00', '2024-H1', [
      { area: '11', measure: 'fbb_subscriptions', value: 73_000, qualifier: '>' },
    ]);
    await sender.send([bad, notJson, good], () => 'vnpt');

    const rejected = await eventually(
      () => {
        const r = dlq.records.find((x) => x.value?.toString() === bad);
        return r && dlq.records.some((x) => x.value?.toString() === notJson) ? r : undefined;
      },
      { what: 'both bad records on the DLQ' },
    );
    const reasons = JSON.parse(rejected.headers['lgsp-errors']!) as {
      code: string;
      path: string;
    }[];
    expect(reasons.map((e) => `${e.code} ${e.path}`)).toEqual(
      expect.arrayContaining([
        'INVALID_FIELD feedId',
        'INVALID_FIELD sentAt',
        'INVALID_FIELD period',
        'INVALID_FIELD observations[0].value',
        'VALUE_KIND_MISMATCH observations[1]',
      ]),
    );
    expect(rejected.key).toBe('vnpt');
    expect(rejected.headers['lgsp-source-topic']).toBe('lgsp.feeds.v1');
    const malformed = dlq.records.find((x) => x.value?.toString() === notJson)!;
    expect(malformed.headers['lgsp-error-code']).toBe('MALFORMED_JSON');

    const fbb = await revision('FBB_SUB_P100|11|2024-H1', 1);
    expect(fbb.numerator).toBe(73_000);
    const health = await hub.getJson<{ checks: { counters: { detail: { rejected: number } } } }>(
      'ingest',
      '/health',
    );
    expect(health.checks.counters.detail.rejected).toBeGreaterThanOrEqual(2);
  });
});

describe('the query API', () => {
  it('returns what the latest event per key on lgsp.kpi.v1 says', async () => {
    await eventually(
      async () => {
        const latest = kpis.latestByKey<KpiEvent>();
        const api = await hub.getJson<{ items: KpiEvent[] }>('api', '/v1/kpis?area=58');
        const fromTopic = [...latest.values()].filter((e) => e.area === '58');
        return fromTopic.length > 0 &&
          api.items.length === fromTopic.length &&
          api.items.every((a) => {
            const t = latest.get(`${a.kpi}|${a.area}|${a.period}`);
            return t && t.revision === a.revision && t.eventId === a.eventId && t.value === a.value;
          })
          ? true
          : undefined;
      },
      { what: 'the API and the topic to agree for area 58' },
    );
    const one = await hub.getJson<{ items: KpiEvent[] }>(
      'api',
      '/v1/kpis?area=58&period=2023-Q1&kpi=MBB_SUB_P100',
    );
    expect(one.items).toHaveLength(1);
    expect(one.items[0]!.numerator).toBe(260_000);
  });

  it('answers 400 with the reason for a bad query', async () => {
    const r = await fetch(hub.url('api', '/v1/kpis?period=2024-13'));
    expect(r.status).toBe(400);
    expect(JSON.stringify(await r.json())).toMatch(/period must be/);
  });
});
