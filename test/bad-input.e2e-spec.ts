/* eslint-disable @typescript-eslint/no-explicit-any -- the JSON bodies of the API under test */
/**
 * The worst we can throw at every channel: the shared Kafka topic, a source's own topic, HTTP
 * JSON and HTTP CSV. Each bad feed gets a clear error and is on record; nothing of it reaches
 * the figures, nothing leaks into another source's, and the hub keeps serving the others.
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
  uniqueSuffix,
} from '@app/testing';

const ADMIN_TOKEN = 'e2e-admin-token-0123456789';
let hub: HubProcesses;
let sender: FeedSender;
let dlq: TopicWatcher;
/** The source under attack, of this run only: the test tables are built before the hub starts. */
const src = `target-${uniqueSuffix()}`.toLowerCase();
let key: string;

const admin = async (method: string, path: string, body?: unknown) =>
  (await callJson<Record<string, any>>(hub.url('api', path), method, ADMIN_TOKEN, body)).body;

const post = async (path: string, body: string | Buffer, apiKey: string | null = key) => {
  const r = await fetch(hub.url('ingest', path), {
    method: 'POST',
    headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
    body,
  });
  return {
    status: r.status,
    body: (await r.json()) as { errors: { code: string; path: string; message: string }[] },
  };
};

let n = 0;
/** A valid feed of the source under attack; `patch` makes it bad. */
const feed = (patch: Record<string, unknown> = {}, obs: Record<string, unknown> = {}) => ({
  schema: 'lgsp.feed.v1',
  feedId: `${src}-${++n}`,
  source: src,
  sentAt: '2024-07-05T08:00:00+07:00',
  period: '2024-06',
  observations: [{ area: '37', measure: 'mbb_subscriptions', value: 1000, ...obs }],
  ...patch,
});

const SQL = "x'); DROP TABLE observation; --";
const SCRIPT = '<script>alert(1)</script>';

/** Every bad JSON feed, and the first error code it must get. */
const badJson = (): [string, string | Buffer, string][] => [
  ['truncated JSON', '{"schema": "lgsp.feed.v1", "feedId": ', 'MALFORMED_JSON'],
  ['an array', '[1, 2]', 'MALFORMED_JSON'],
  ['NaN literal', JSON.stringify(feed()).replace('1000', 'NaN'), 'MALFORMED_JSON'],
  ['Infinity literal', JSON.stringify(feed()).replace('1000', 'Infinity'), 'MALFORMED_JSON'],
  ['-Infinity literal', JSON.stringify(feed()).replace('1000', '-Infinity'), 'MALFORMED_JSON'],
  [
    '1e999 (overflows to Infinity)',
    JSON.stringify(feed()).replace('1000', '1e999'),
    'INVALID_FIELD',
  ],
  ['"NaN" as a string', JSON.stringify(feed({}, { value: 'NaN' })), 'INVALID_FIELD'],
  ['"Infinity" as a string', JSON.stringify(feed({}, { value: 'Infinity' })), 'INVALID_FIELD'],
  ['"∞"', JSON.stringify(feed({}, { value: '∞' })), 'INVALID_FIELD'],
  ['a number as a string', JSON.stringify(feed({}, { value: '1000' })), 'INVALID_FIELD'],
  ['a negative value', JSON.stringify(feed({}, { value: -1 })), 'INVALID_FIELD'],
  [
    'an astronomically large value',
    JSON.stringify(feed({}, { value: 1e300 })),
    'VALUE_OUT_OF_RANGE',
  ],
  ['a boolean value', JSON.stringify(feed({}, { value: true })), 'INVALID_FIELD'],
  ['period as a number', JSON.stringify(feed({ period: 202406 })), 'INVALID_FIELD'],
  ['observations as an object', JSON.stringify(feed({ observations: { a: 1 } })), 'INVALID_FIELD'],
  ['no observations', JSON.stringify(feed({ observations: [] })), 'INVALID_FIELD'],
  ['missing feedId', JSON.stringify({ ...feed(), feedId: undefined }), 'INVALID_FIELD'],
  [
    'the same observation twice',
    JSON.stringify(
      feed({
        observations: [
          { area: '37', measure: 'mbb_subscriptions', value: 1 },
          { area: '37', measure: 'mbb_subscriptions', value: 2 },
        ],
      }),
    ),
    'DUPLICATE_OBSERVATION',
  ],
  ['an unknown field', JSON.stringify(feed({ comment: 'hi' })), 'UNKNOWN_FIELD'],
  ['an unknown observation field', JSON.stringify(feed({}, { unit: 'k' })), 'UNKNOWN_FIELD'],
  [
    '10,001 observations',
    JSON.stringify(
      feed({
        observations: Array.from({ length: 10_001 }, (_, i) => ({
          area: '37',
          measure: 'mbb_subscriptions',
          value: i,
        })),
      }),
    ),
    'INVALID_FIELD',
  ],
  ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 'MALFORMED_JSON'],
  ['SQL in feedId', JSON.stringify(feed({ feedId: SQL })), 'INVALID_FIELD'],
  ['SQL in period', JSON.stringify(feed({ period: SQL })), 'INVALID_FIELD'],
  ['SQL in sentAt', JSON.stringify(feed({ sentAt: SQL })), 'INVALID_FIELD'],
  ['SQL in status', JSON.stringify(feed({ status: SQL })), 'INVALID_FIELD'],
  ['SQL in area', JSON.stringify(feed({}, { area: SQL })), 'INVALID_FIELD'],
  ['script in measure', JSON.stringify(feed({}, { measure: SCRIPT })), 'UNKNOWN_MEASURE'],
  ['script in qualifier', JSON.stringify(feed({}, { qualifier: SCRIPT })), 'INVALID_FIELD'],
  ['SQL in schema', JSON.stringify(feed({ schema: SQL })), 'INVALID_FIELD'],
];

beforeAll(async () => {
  const started = await startTestHub('badinput', 13_600, {
    ADMIN_TOKEN,
    SOURCE_TOPICS_REFRESH_MS: '500',
    HTTP_FEED_MAX_BYTES: String(2 * 1024 * 1024),
  });
  hub = started.hub;
  await admin('POST', '/v1/sources', {
    id: src,
    kind: 'operator',
    displayName: 'Target',
    measures: ['mbb_subscriptions', 'villages_mbb_covered'],
    reports: { every: 'month', dueDays: 15 },
  });
  key = (await admin('POST', `/v1/sources/${src}/keys`, {})).key as string;
  const kafka = kafkaClient();
  sender = await new FeedSender(kafka).start();
  dlq = await new TopicWatcher(kafka, 'lgsp.feeds.dlq.v1').start();
});

afterAll(async () => {
  await Promise.all([sender?.stop(), dlq?.stop(), hub?.stopAll()]);
});

/** A good feed of viettel in Nam Định, to show the hub keeps serving the others. */
const bystander = (i: number) => ({
  schema: 'lgsp.feed.v1',
  feedId: `bystander-${src}-${i}`,
  source: 'viettel',
  sentAt: `2024-07-05T08:00:${String(i).padStart(2, '0')}+07:00`,
  period: '2024-06',
  observations: [{ area: '36', measure: 'mbb_subscriptions', value: 1000 + i }],
});

describe('bad input on HTTP JSON', () => {
  it.each(badJson())('%s: 400 with a clear error', async (_what, body, code) => {
    const r = await post('/v1/feeds', body);
    expect(r.status).toBe(400);
    expect(r.body.errors[0]!.code).toBe(code);
    expect(r.body.errors[0]!.message.length).toBeGreaterThan(10);
  });

  it('a body over the limit: 413; wrong and missing keys: 401', async () => {
    expect((await post('/v1/feeds', Buffer.alloc(2 * 1024 * 1024 + 1, 0x20))).status).toBe(413);
    expect((await post('/v1/feeds', JSON.stringify(feed()), null)).status).toBe(401);
    expect((await post('/v1/feeds', JSON.stringify(feed()), `${key}x`)).status).toBe(401);
    expect((await post('/v1/feeds', JSON.stringify(feed()), 'Basic abc')).status).toBe(401);
  });
});

describe('bad input on HTTP CSV', () => {
  const q = (id: string) =>
    `/v1/feeds/csv?feedId=${id}&period=2024-06&sentAt=${encodeURIComponent('2024-07-05T08:00:00+07:00')}`;
  it.each([
    ['an unclosed quote', 'area,measure,value\n"37,mbb_subscriptions,1\n', 'MALFORMED_CSV'],
    ['no header', '', 'MALFORMED_CSV'],
    ['a missing column', 'area,value\n37,1\n', 'MALFORMED_CSV'],
    ['NaN', 'area,measure,value\n37,mbb_subscriptions,NaN\n', 'INVALID_FIELD'],
    ['Infinity', 'area,measure,value\n37,mbb_subscriptions,Infinity\n', 'INVALID_FIELD'],
    ['-inf', 'area,measure,value\n37,mbb_subscriptions,-inf\n', 'INVALID_FIELD'],
    ['1e999', 'area,measure,value\n37,mbb_subscriptions,1e999\n', 'INVALID_FIELD'],
    ['a negative value', 'area,measure,value\n37,mbb_subscriptions,-5\n', 'INVALID_FIELD'],
    ['SQL in area', `area,measure,value\n"${SQL}",mbb_subscriptions,5\n`, 'INVALID_FIELD'],
    ['script in measure', `area,measure,value\n37,${SCRIPT},5\n`, 'UNKNOWN_MEASURE'],
    [
      'the same row twice',
      'area,measure,value\n37,mbb_subscriptions,5\n37,mbb_subscriptions,6\n',
      'DUPLICATE_OBSERVATION',
    ],
  ])('%s: 400 with a clear error', async (what, csv, code) => {
    const r = await post(q(`${src}-csv-${what.replace(/\W+/g, '-')}`), csv);
    expect(r.status).toBe(400);
    expect(r.body.errors[0]!.code).toBe(code);
  });

  it('invalid UTF-8 and 10,001 rows', async () => {
    const utf = await post(q(`${src}-csv-utf8`), Buffer.from([0x61, 0x0a, 0xff, 0x0a]));
    expect([utf.status, utf.body.errors[0]!.code]).toEqual([400, 'MALFORMED_CSV']);
    const rows = Array.from({ length: 10_001 }, (_, i) => `37,m${i},1`).join('\n');
    const many = await post(q(`${src}-csv-many`), `area,measure,value\n${rows}\n`);
    expect(many.status).toBe(400);
    expect(many.body.errors.map((e) => e.path)).toContain('observations');
  });
});

describe('bad input on Kafka', () => {
  it('every bad feed is on the DLQ with its reasons, while a good source is served', async () => {
    const cases = badJson();
    const own = `lgsp.feeds.v1.${src}`;
    let lastBystander = 0;
    for (const [i, [, body]] of cases.entries()) {
      await sender.send([Buffer.isBuffer(body) ? body : Buffer.from(body)], () => src);
      await sender.send([Buffer.isBuffer(body) ? body : Buffer.from(body)], () => null, own);
      if (i % 10 === 0) await sender.send([bystander((lastBystander = i / 10))]);
    }
    // Wrong and missing keys on the shared topic.
    await sender.send([feed({ feedId: `${src}-wrong-key` })], () => 'viettel');
    await sender.send([feed({ feedId: `${src}-no-key` })], () => null);

    // Each bad feed twice (shared topic, own topic), rejected by the ingest, with its reasons.
    const byIngest = (bytes: Buffer) =>
      dlq.records.filter(
        (r) => r.headers['lgsp-rejected-by'] === 'ingest' && r.value?.equals(bytes),
      );
    await eventually(
      () =>
        cases.every(
          ([, body]) => byIngest(Buffer.isBuffer(body) ? body : Buffer.from(body)).length >= 2,
        )
          ? true
          : undefined,
      { timeoutMs: 60_000 },
    );
    for (const [what, body, code] of cases) {
      const copies = byIngest(Buffer.isBuffer(body) ? body : Buffer.from(body));
      expect([what, copies.length]).toEqual([what, 2]);
      for (const c of copies) {
        expect([what, c.headers['lgsp-error-code']]).toEqual([what, code]);
        expect(JSON.parse(c.headers['lgsp-errors']!).length).toBeGreaterThan(0);
      }
    }
    const keyed = await eventually(() => {
      const found = dlq.records.filter(
        (r) =>
          r.value?.toString().includes(`${src}-wrong-key`) ||
          r.value?.toString().includes(`${src}-no-key`),
      );
      return found.length === 2 ? found : undefined;
    });
    expect(keyed.map((r) => r.headers['lgsp-errors']).sort()).toEqual([
      expect.stringContaining('does not name the feed'),
      expect.stringContaining('the record has no key'),
    ]);

    // The bystander's figures are there; the target source has none at all.
    const namDinh = await eventually(async () => {
      const r = await fetch(hub.url('api', '/v1/kpis?kpi=MBB_SUB_P100&area=36&period=2024-06'));
      const k = ((await r.json()) as { items: KpiEvent[] }).items[0];
      return k?.numerator === 1000 + lastBystander ? k : undefined;
    });
    expect(namDinh.inputs.every((i) => i.source === 'viettel')).toBe(true);
    const counts: { n: string }[] = await (async () => {
      const r = await admin('GET', `/v1/exchanges?source=${src}&outcome=accepted&limit=1000`);
      return [{ n: String(r.items.length) }];
    })();
    expect(counts[0]!.n).toBe('0');
    const all = (await admin('GET', `/v1/kpis?area=37&period=2024-06`)) as { items?: KpiEvent[] };
    expect(JSON.stringify(all.items ?? [])).not.toContain(src);
  });

  it('accepts SQL and script text where a field takes any code, and stores it as plain text', async () => {
    const r = await post(
      '/v1/feeds',
      JSON.stringify(
        feed({}, { measure: 'villages_mbb_covered', value: undefined, items: [SQL, SCRIPT, 'v3'] }),
      ),
    );
    expect(r.status).toBe(202);
    const k = await eventually(async () => {
      const res = await fetch(hub.url('api', '/v1/kpis?kpi=VIL_MBB_COV&area=37&period=2024-06'));
      return ((await res.json()) as { items: KpiEvent[] }).items[0];
    });
    expect(k.numerator).toBe(3);
    // The tables are all still there: the hub still answers from them.
    expect((await fetch(hub.url('api', '/v1/kpis?area=36'))).status).toBe(200);
  });

  it('the audit log accounts for every feed sent to the target source', async () => {
    const r = await admin('GET', `/v1/exchanges?source=${src}&limit=1000`);
    const outcomes = (r.items as { outcome: string }[]).map((e) => e.outcome);
    expect(outcomes.filter((o) => o === 'accepted')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'rejected').length).toBeGreaterThanOrEqual(40);
    expect(outcomes).not.toContain('validated');
  });
});
