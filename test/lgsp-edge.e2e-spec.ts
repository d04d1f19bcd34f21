/* eslint-disable @typescript-eslint/no-explicit-any -- the JSON bodies of the API under test */
/**
 * The LGSP edge as an operator and the hub's admins meet it: onboarding a source with its own
 * vocabulary, API keys, HTTP and per-source Kafka channels, restrictions, the audit log and
 * DLQ replay after a mapping fix, never counted twice.
 */
import type { KpiEvent } from '@app/contract';
import {
  callJson,
  eventually,
  FeedSender,
  type HubProcesses,
  kafkaClient,
  startTestHub,
  TopicWatcher,
} from '@app/testing';

const ADMIN_TOKEN = 'e2e-admin-token-0123456789';
let hub: HubProcesses;
let run: string;
let sender: FeedSender;
let dlq: TopicWatcher;
/** A source id of this run: topics outlive a test file on the shared broker. */
let op: string;
let gso: string;

const admin = (method: string, path: string, body?: unknown, token = ADMIN_TOKEN) =>
  callJson<Record<string, any>>(hub.url('api', path), method, token, body);

const postFeed = async (path: string, key: string | undefined, body: string | Buffer) => {
  const r = await fetch(hub.url('ingest', path), {
    method: 'POST',
    headers: {
      'content-type': path.includes('csv') ? 'text/csv' : 'application/json',
      ...(key ? { authorization: `Bearer ${key}` } : {}),
    },
    body,
  });
  return { status: r.status, body: (await r.json()) as Record<string, any> };
};

const kpi = async (kpiCode: string, area: string, period: string) => {
  const r = await fetch(hub.url('api', `/v1/kpis?kpi=${kpiCode}&area=${area}&period=${period}`));
  return ((await r.json()) as { items: KpiEvent[] }).items[0];
};

const exchanges = async (query: string) =>
  (await admin('GET', `/v1/exchanges?${query}`)).body.items as Record<string, any>[];

const sentAt = (minute: number) => `2024-07-05T08:${String(minute).padStart(2, '0')}:00+07:00`;

/** An operator that reports in thousands, in its own measure names, with Vietnamese CSV. */
const registration = () => ({
  id: op,
  kind: 'operator',
  displayName: 'Nhà mạng thử nghiệm',
  measures: ['mobile_subscriptions', 'mbb_subscriptions', 'villages_mbb_covered'],
  areas: ['37', '36'],
  reports: { every: 'month', dueDays: 15 },
  mapping: {
    measures: {
      TB_DD: { measure: 'mobile_subscriptions', scale: 1000 },
      TB_BRDD: { measure: 'mbb_subscriptions', scale: 1000 },
    },
    numbers: 'vi',
    columns: { area: 'Tỉnh/Thành phố', measure: 'Chỉ tiêu', value: 'Số liệu (nghìn)' },
  },
});

beforeAll(async () => {
  ({ hub, run } = await startTestHub('edge', 13_500, {
    ADMIN_TOKEN,
    SOURCE_TOPICS_REFRESH_MS: '500',
    HTTP_FEED_MAX_BYTES: String(64 * 1024),
  }));
  op = `op-${run}`.toLowerCase();
  gso = `gso-${run}`.toLowerCase();
  const kafka = kafkaClient();
  sender = await new FeedSender(kafka).start();
  dlq = await new TopicWatcher(kafka, 'lgsp.feeds.dlq.v1').start();
});

afterAll(async () => {
  await Promise.all([sender?.stop(), dlq?.stop(), hub?.stopAll()]);
});

describe('onboarding a source', () => {
  it('needs the admin token, and checks the registration and its mapping profile', async () => {
    expect(
      (await admin('POST', '/v1/sources', registration(), 'not-the-token-0123456')).status,
    ).toBe(401);
    const bad = await admin('POST', '/v1/sources', {
      ...registration(),
      measures: ['mobile_subscription'],
      mapping: { measures: { TB_DD: { measure: 'mobile_subscription' } }, numbers: 'fr' },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/measures/);
    const badProfile = await admin('POST', '/v1/sources', {
      ...registration(),
      mapping: {
        measures: {
          TB_DD: { measure: 'mobile_subscription' },
          mbb_subscriptions: { measure: 'mbb_subscriptions' },
        },
        numbers: 'fr',
      },
    });
    expect(badProfile.status).toBe(400);
    expect(badProfile.body.errors).toEqual([
      expect.stringMatching(
        /^measures\.TB_DD\.measure must be a measure code; did you mean "mobile_subscriptions"/,
      ),
      'measures: "mbb_subscriptions" is already a measure code and cannot be renamed',
      'numbers must be "en" (1,234.5) or "vi" (1.234,5)',
    ]);

    const created = await admin('POST', '/v1/sources', registration());
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: op, active: true, topic: `lgsp.feeds.v1.${op}` });
    expect((await admin('POST', '/v1/sources', registration())).status).toBe(409);
    // The population comes from a statistics office of this run, over Kafka.
    expect(
      (
        await admin('POST', '/v1/sources', {
          id: gso,
          kind: 'agency',
          displayName: 'Cục Thống kê (thử)',
          measures: ['population', 'villages_total'],
          reports: { every: 'year', dueDays: 90 },
        })
      ).status,
    ).toBe(201);
  });
});

describe('HTTP ingest', () => {
  let key: string;

  it('turns an operator-shaped CSV with Vietnamese names into correct KPIs', async () => {
    key = (await admin('POST', `/v1/sources/${op}/keys`, { label: 'etl' })).body.key as string;
    expect(key).toMatch(/^lgsk_[0-9a-f]{16}_/);
    await eventually(async () => {
      const r = await fetch(hub.url('ingest', '/health'));
      return r.ok;
    });
    await sender.send([
      {
        schema: 'lgsp.feed.v1',
        feedId: `${gso}-2024`,
        source: gso,
        sentAt: '2024-03-01T00:00:00+07:00',
        period: '2024',
        observations: [
          { area: '37', measure: 'population', value: 1_010_700 },
          { area: '36', measure: 'population', value: 1_887_100 },
        ],
      },
    ]);
    // Composed and decomposed Unicode, no diacritics, upper case, the unit word: one province each.
    const csv = [
      'Tỉnh/Thành phố,Chỉ tiêu,Số liệu (nghìn)',
      '"Tỉnh Ninh Bình",TB_DD,"1.150,2"',
      `"${'Ninh Bình'.normalize('NFD')}",TB_BRDD,"694,25"`,
      'NAM DINH,TB_BRDD,"1.201,5"',
      'tinh nam dinh,TB_DD,"1.700"',
    ].join('\r\n');
    const r = await postFeed(
      `/v1/feeds/csv?feedId=${op}-2024-06&period=2024-06&sentAt=${encodeURIComponent(sentAt(0))}`,
      key,
      Buffer.from(`\uFEFF${csv}`),
    );
    expect(r).toMatchObject({ status: 202, body: { feedId: `${op}-2024-06`, observations: 4 } });

    const ninhBinh = await eventually(async () => {
      const k = await kpi('MBB_SUB_P100', '37', '2024-06');
      return k?.denominator ? k : undefined;
    });
    expect(ninhBinh).toMatchObject({ numerator: 694_250, denominator: 1_010_700 });
    expect(ninhBinh.value).toBeCloseTo((694_250 / 1_010_700) * 100, 10);
    const namDinh = await eventually(() => kpi('MOB_SUB_P100', '36', '2024-06'));
    expect(namDinh).toMatchObject({ numerator: 1_700_000, denominator: 1_887_100 });
    expect(namDinh.value).toBeCloseTo((1_700_000 / 1_887_100) * 100, 10);
  });

  it('takes the contract JSON too, answers a resend as a duplicate, and records both', async () => {
    const feed = {
      schema: 'lgsp.feed.v1',
      feedId: `${op}-2024-06-villages`,
      source: op,
      sentAt: sentAt(1),
      period: '2024-06',
      observations: [{ area: 'Ninh Bình', measure: 'villages_mbb_covered', items: ['v1', 'v2'] }],
    };
    expect((await postFeed('/v1/feeds', key, JSON.stringify(feed))).status).toBe(202);
    // The exchange is logged as accepted at once; the KPI keys it changed are added when they are published.
    await eventually(async () =>
      (await exchanges(`feedId=${feed.feedId}`)).find(
        (e) => e.outcome === 'accepted' && e.kpiKeys.length > 0,
      ),
    );
    const again = await postFeed('/v1/feeds', key, JSON.stringify(feed));
    expect(again).toMatchObject({ status: 200, body: { outcome: 'duplicate' } });
    const log = await exchanges(`feedId=${feed.feedId}`);
    expect(log.map((e) => [e.channel, e.outcome])).toEqual([
      ['http', 'accepted'],
      ['http', 'duplicate'],
    ]);
    expect(log[0]!.kpiKeys).toContain('VIL_MBB_COV|37|2024-06');
    expect(log[0]!.contentSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses missing, unknown and revoked keys (401), another source (403), oversize bodies (413)', async () => {
    const body = JSON.stringify({ schema: 'lgsp.feed.v1' });
    expect((await postFeed('/v1/feeds', undefined, body)).status).toBe(401);
    expect(
      (await postFeed('/v1/feeds', 'lgsk_0000000000000000_' + 'x'.repeat(43), body)).status,
    ).toBe(401);

    // Rotation: a second key works, the first stops working the moment it is revoked.
    const second = (await admin('POST', `/v1/sources/${op}/keys`, {})).body.key as string;
    const keys = (await admin('GET', `/v1/sources/${op}/keys`)).body.items as { keyId: string }[];
    expect(keys).toHaveLength(2);
    const firstId = key.split('_')[1]!;
    const revoke = await admin('DELETE', `/v1/sources/${op}/keys/${firstId}`);
    expect([revoke.status, revoke.body]).toEqual([200, { revoked: firstId }]);
    const revoked = await postFeed('/v1/feeds', key, body);
    expect(revoked.status).toBe(401);
    expect(revoked.body.message).toMatch(/revoked/);
    key = second;

    const otherSource = await postFeed(
      '/v1/feeds',
      key,
      JSON.stringify({
        schema: 'lgsp.feed.v1',
        feedId: `${op}-spoof`,
        source: 'viettel',
        sentAt: sentAt(2),
        period: '2024-06',
        observations: [{ area: '37', measure: 'mbb_subscriptions', value: 1 }],
      }),
    );
    expect(otherSource.status).toBe(403);
    expect(otherSource.body.errors[0]).toMatchObject({ code: 'NOT_AUTHORISED', path: 'source' });

    const huge = await postFeed('/v1/feeds', key, Buffer.alloc(65 * 1024, 0x20));
    expect(huge.status).toBe(413);
    expect(huge.body.message).toMatch(/over the limit of 65536 bytes/);
  });
});

describe('restrictions', () => {
  it('rejects, as not authorised, a measure or province outside the registration, and a suspended source', async () => {
    const key = (await admin('POST', `/v1/sources/${op}/keys`, {})).body.key as string;
    const outside = await postFeed(
      '/v1/feeds',
      key,
      JSON.stringify({
        schema: 'lgsp.feed.v1',
        feedId: `${op}-outside`,
        source: op,
        sentAt: sentAt(3),
        period: '2024-06',
        observations: [
          { area: '01', measure: 'mbb_subscriptions', value: 5 },
          { area: '37', measure: 'bts_sites', items: ['s1'] },
        ],
      }),
    );
    expect(outside.status).toBe(403);
    expect(outside.body.errors.map((e: { message: string }) => e.message)).toEqual([
      `source "${op}" is not registered for province 01`,
      `source "${op}" is not registered to report bts_sites`,
    ]);

    expect((await admin('PATCH', `/v1/sources/${op}`, { active: false })).body.active).toBe(false);
    const feed = {
      schema: 'lgsp.feed.v1',
      feedId: `${op}-while-suspended`,
      source: op,
      sentAt: sentAt(4),
      period: '2024-06',
      observations: [{ area: '37', measure: 'mbb_subscriptions', value: 1 }],
    };
    const http = await postFeed('/v1/feeds', key, JSON.stringify(feed));
    expect(http.status).toBe(403);
    expect(http.body.errors[0].message).toMatch(/suspended/);
    await sender.send([{ ...feed, feedId: `${op}-while-suspended-kafka` }]);
    const onDlq = await eventually(() =>
      dlq.records.find((r) => r.value?.toString().includes(`${op}-while-suspended-kafka`)),
    );
    expect(onDlq.headers['lgsp-error-code']).toBe('NOT_AUTHORISED');
    expect(onDlq.headers['lgsp-errors']).toMatch(/suspended/);
    expect((await admin('PATCH', `/v1/sources/${op}`, { active: true })).body.active).toBe(true);
    // Nothing of either reached the figures.
    expect((await kpi('MBB_SUB_P100', '37', '2024-06'))!.numerator).toBe(694_250);
  });

  it("takes the source's identity from its own topic, and refuses a feed there that claims another", async () => {
    const topic = `lgsp.feeds.v1.${op}`;
    const base = { schema: 'lgsp.feed.v1', sentAt: sentAt(5), period: '2024-06' };
    await sender.send(
      [
        {
          ...base,
          feedId: `${op}-claims-viettel`,
          source: 'viettel',
          observations: [{ area: '37', measure: 'mbb_subscriptions', value: 999 }],
        },
        {
          ...base,
          feedId: `${op}-own-topic`,
          source: op,
          observations: [{ area: 'Ninh Bình', measure: 'TB_BRDD', value: 700 }],
        },
      ],
      () => null,
      topic,
    );
    const refused = await eventually(() =>
      dlq.records.find((r) => r.value?.toString().includes(`${op}-claims-viettel`)),
    );
    expect(refused.headers['lgsp-errors']).toContain(`this channel belongs to source \\"${op}\\"`);
    const k = await eventually(async () => {
      const e = await kpi('MBB_SUB_P100', '37', '2024-06');
      return e?.numerator === 700_000 ? e : undefined;
    });
    expect(k.inputs).toContainEqual({
      source: op,
      feedId: `${op}-own-topic`,
      measure: 'mbb_subscriptions',
    });
    expect(JSON.stringify(k.inputs)).not.toContain('claims-viettel');
    expect((await exchanges(`feedId=${op}-own-topic`))[0]).toMatchObject({
      channel: 'kafka',
      kafka: { topic },
      outcome: 'accepted',
    });
  });

  it('accepts a feed sent on the shared topic and its own topic at the same moment once', async () => {
    // Two copies of each feed, on two topics: whichever is claimed first owns the feed, and
    // the other is a duplicate (with two ingest instances, both may be claimed at once).
    const months = ['01', '02', '03', '04', '05'];
    const feeds = months.map((m, i) => ({
      schema: 'lgsp.feed.v1',
      feedId: `${op}-both-topics-2024-${m}`,
      source: op,
      sentAt: sentAt(6),
      period: `2024-${m}`,
      observations: [{ area: '36', measure: 'TB_BRDD', value: 100 + i }],
    }));
    await Promise.all([
      sender.send(feeds, () => op),
      sender.send(feeds, () => op, `lgsp.feeds.v1.${op}`),
    ]);
    for (const [i, f] of feeds.entries()) {
      const log = await eventually(async () => {
        const l = await exchanges(`feedId=${f.feedId}`);
        return l.length === 2 && l.every((e) => e.outcome !== 'validated') ? l : undefined;
      });
      expect(log.map((e) => e.outcome).sort()).toEqual(['accepted', 'duplicate']);
      const k = await eventually(() => kpi('MBB_SUB_P100', '36', f.period));
      expect(k.numerator).toBe((100 + i) * 1000);
      expect(k.revision).toBe(1);
    }
  });
});

describe('the DLQ', () => {
  it('is listed and inspected, and a feed replayed after a mapping fix is applied once', async () => {
    const key = (await admin('POST', `/v1/sources/${op}/keys`, {})).body.key as string;
    const feedId = `${op}-2024-07`;
    const csv = 'Tỉnh/Thành phố,Chỉ tiêu,Số liệu (nghìn)\nNinh Bình,TB_FTTH,"12,5"\n';
    const refused = await postFeed(
      `/v1/feeds/csv?feedId=${feedId}&period=2024-07&sentAt=${encodeURIComponent(sentAt(6))}`,
      key,
      csv,
    );
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0]).toMatchObject({
      code: 'UNKNOWN_MEASURE',
      path: 'row 2.measure',
    });
    expect(refused.body.errors[0].message).toMatch(
      /"TB_FTTH" is neither a measure nor a name in this source's mapping profile/,
    );

    const listed = (await admin('GET', `/v1/dlq?source=${op}`)).body.items as Record<string, any>[];
    const entry = listed.find((e) => e.feedId === feedId)!;
    expect(entry).toMatchObject({ errorCode: 'UNKNOWN_MEASURE', replayable: true, replays: 0 });
    const shown = (await admin('GET', `/v1/dlq/${entry.id}`)).body;
    expect(JSON.parse(shown.payload as string).observations).toEqual([
      { area: 'Ninh Bình', measure: 'TB_FTTH', value: 12.5 },
    ]);

    // The fix: the operator is registered for fibre, and its name for it is mapped.
    const reg = registration();
    await admin('PATCH', `/v1/sources/${op}`, {
      measures: [...reg.measures, 'ftth_household_subscriptions'],
    });
    const fixed = await admin('PUT', `/v1/sources/${op}/mapping`, {
      ...reg.mapping,
      measures: {
        ...reg.mapping.measures,
        TB_FTTH: { measure: 'ftth_household_subscriptions', scale: 1000 },
      },
    });
    expect(fixed.status).toBe(200);

    expect((await admin('POST', `/v1/dlq/${entry.id}/replay`)).status).toBe(202);
    const applied = await eventually(async () =>
      (await exchanges(`feedId=${feedId}`)).find((e) => e.outcome === 'accepted'),
    );
    expect(applied).toMatchObject({ channel: 'replay', replayOf: entry.id });
    const households = await eventually(async () => {
      const r = await fetch(hub.url('api', `/v1/kpis?area=37&period=2024-07&kpi=HH_FTTH_RATE`));
      return ((await r.json()) as { items: KpiEvent[] }).items[0];
    });
    expect(households).toMatchObject({ numerator: 12_500, revision: 1 });

    // Replayed again: a duplicate, counted once.
    expect((await admin('POST', `/v1/dlq/${entry.id}/replay`)).status).toBe(202);
    await eventually(async () =>
      (await exchanges(`feedId=${feedId}`)).find((e) => e.outcome === 'duplicate'),
    );
    const after = (await admin('GET', `/v1/dlq/${entry.id}`)).body;
    expect(after.replays).toBe(2);
    const r = await fetch(hub.url('api', `/v1/kpis?area=37&period=2024-07&kpi=HH_FTTH_RATE`));
    expect(((await r.json()) as { items: KpiEvent[] }).items[0]).toMatchObject({
      numerator: 12_500,
      revision: 1,
    });
  });

  it('keeps a record of every exchange, queryable by source and time', async () => {
    const all = await exchanges(`source=${op}&limit=1000`);
    const outcomes = all.map((e) => e.outcome);
    expect(outcomes).not.toContain('validated');
    expect(outcomes.filter((o) => o === 'accepted').length).toBeGreaterThanOrEqual(4);
    expect(outcomes).toContain('rejected');
    expect(outcomes).toContain('duplicate');
    const future = await exchanges(
      `source=${op}&from=${encodeURIComponent('2999-01-01T00:00:00Z')}`,
    );
    expect(future).toEqual([]);
    // No key, no source: the 401s are on record too.
    expect(
      (await exchanges('outcome=rejected&limit=1000')).some(
        (e) => e.errorCode === 'UNAUTHENTICATED',
      ),
    ).toBe(true);
    expect((await admin('GET', `/v1/exchanges`, undefined, 'wrong-token-0123456789')).status).toBe(
      401,
    );
  });
});
