/* eslint-disable @typescript-eslint/no-explicit-any -- the JSON bodies of the API under test */
/**
 * Contract promise 4 against the running hub: no record stops it. A record nested 100,000
 * levels deep, feeds compressed with every codec by Apache Kafka's own Java producer (as an
 * operator's platform sends them), and hundreds of generated hostile inputs on every channel,
 * while good feeds keep flowing and every service stays up and ready.
 */
import { FEED_ERROR, type KpiEvent } from '@app/contract';
import {
  callJson,
  eventually,
  type HubProcesses,
  java,
  kafkaClient,
  requireEnv,
  startTestHub,
  TopicWatcher,
  uniqueSuffix,
} from '@app/testing';
import { anyJson, anyText, hostileFeed } from '@app/testing/src/hostile-feeds.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { IHeaders, Producer } from 'kafkajs';

const ADMIN_TOKEN = 'e2e-admin-token-hostile-0123456789';
const CODES = new Set<string>([
  ...Object.values(FEED_ERROR),
  'UNREADABLE_FEED_SLICE',
  'INAPPLICABLE_FEED_SLICE',
]);
let hub: HubProcesses;
let producer: Producer;
let dlq: TopicWatcher;
const src = `fuzz-${uniqueSuffix()}`.toLowerCase();
let key: string;
const startedAt = new Date().toISOString();

const admin = async (method: string, path: string, body?: unknown) =>
  (await callJson<Record<string, any>>(hub.url('api', path), method, ADMIN_TOKEN, body)).body;

beforeAll(async () => {
  ({ hub } = await startTestHub('hostile', 13_800, {
    ADMIN_TOKEN,
    SOURCE_TOPICS_REFRESH_MS: '500',
  }));
  await admin('POST', '/v1/sources', {
    id: src,
    kind: 'operator',
    displayName: 'Fuzz',
    measures: ['mbb_subscriptions', 'mobile_subscriptions', 'villages_mbb_covered', 'bts_sites'],
    reports: { every: 'month', dueDays: 15 },
  });
  key = (await admin('POST', `/v1/sources/${src}/keys`, {})).key as string;
  const kafka = kafkaClient();
  producer = kafka.producer();
  await producer.connect();
  dlq = await new TopicWatcher(kafka, 'lgsp.feeds.dlq.v1').start();
  // The source's own topic is joined within SOURCE_TOPICS_REFRESH_MS.
  await eventually(
    async () => {
      const s = await hub.getJson<any>('ingest', '/health');
      return JSON.stringify(s).includes(`lgsp.feeds.v1.${src}`) ? true : undefined;
    },
    { timeoutMs: 60_000 },
  );
});

afterAll(async () => {
  await Promise.all([producer?.disconnect(), dlq?.stop(), hub?.stopAll()]);
});

let good = 0;
/** A good viettel feed for an area: the figure that must keep flowing. */
const goodFeed = (area: string, value: number, feedId = `good-${src}-${++good}`) => ({
  schema: 'lgsp.feed.v1',
  feedId,
  source: 'viettel',
  sentAt: '2024-07-05T08:00:00+07:00',
  period: '2024-06',
  observations: [{ area, measure: 'mbb_subscriptions', value }],
});

const kpi = async (area: string): Promise<KpiEvent | undefined> => {
  const r = await fetch(hub.url('api', `/v1/kpis?kpi=MBB_SUB_P100&area=${area}&period=2024-06`));
  return ((await r.json()) as { items: KpiEvent[] }).items[0];
};

/** Every service answers ready, and none has exited. */
async function expectAllReady(): Promise<void> {
  for (const s of ['ingest', 'aggregator', 'relay', 'api'] as const) {
    const live = await fetch(hub.url(s, '/health/live'));
    const ready = await fetch(hub.url(s, '/health/ready'));
    expect([s, live.status, ready.status]).toEqual([s, 200, 200]);
  }
}

describe('a record nested 100,000 levels deep', () => {
  it('goes to the DLQ as MALFORMED_JSON, and the feed behind it is applied', async () => {
    const deep = `{"schema":"lgsp.feed.v1","observations":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const [meta] = await producer.send({
      topic: 'lgsp.feeds.v1',
      acks: -1,
      messages: [
        { key: 'viettel', value: deep },
        { key: 'viettel', value: JSON.stringify(goodFeed('36', 4321)) },
      ],
    });
    const onDlq = await eventually(() =>
      dlq.records.find(
        (r) =>
          r.headers['lgsp-source-topic'] === 'lgsp.feeds.v1' &&
          r.headers['lgsp-source-offset'] === meta!.baseOffset &&
          r.headers['lgsp-source-partition'] === String(meta!.partition),
      ),
    );
    expect(onDlq.headers['lgsp-error-code']).toBe('MALFORMED_JSON');
    expect(onDlq.headers['lgsp-errors']).toContain('deeper than 32 levels');
    expect(onDlq.value?.length).toBe(deep.length);
    const k = await eventually(async () => {
      const e = await kpi('36');
      return e?.numerator === 4321 ? e : undefined;
    });
    expect(k.inputs.map((i) => i.feedId)).toContain(`good-${src}-${good}`);
    await expectAllReady();
  });
});

/** Sends `key<TAB>value` lines through Apache Kafka's own console producer. */
const javaProduce = (lines: string[], producerProps: Record<string, string>) =>
  java(
    [
      'kafka.tools.ConsoleProducer',
      '--bootstrap-server',
      requireEnv('KAFKA_BROKERS'),
      '--topic',
      'lgsp.feeds.v1',
      '--property',
      'parse.key=true',
      '--property',
      'key.separator=\t',
      ...Object.entries(producerProps).flatMap(([k, v]) => ['--producer-property', `${k}=${v}`]),
    ],
    lines.map((l) => `${l}\n`).join(''),
  );

describe("feeds from Apache Kafka's Java producer", () => {
  // One province per codec, so each figure tells which codec carried it.
  const codecs = [
    ['gzip', '01'],
    ['snappy', '04'],
    ['lz4', '08'],
    ['zstd', '11'],
  ] as const;

  it.each(codecs)(
    'applies a feed compressed with %s (acks=all, idempotent, batched with others)',
    async (codec, area) => {
      const value = 10_000 + Number(area);
      // A few feeds in one batch, so the batch is really compressed as a whole.
      const lines = [1, 2, 3].map(
        (i) => `viettel\t${JSON.stringify(goodFeed(area, value + i, `java-${codec}-${src}-${i}`))}`,
      );
      await javaProduce(lines, {
        'compression.type': codec,
        acks: 'all',
        'enable.idempotence': 'true',
        'linger.ms': '50',
      });
      const k = await eventually(
        async () => {
          const e = await kpi(area);
          return e?.numerator === value + 3 ? e : undefined;
        },
        { timeoutMs: 60_000 },
      );
      expect(k.inputs).toEqual([
        { source: 'viettel', feedId: `java-${codec}-${src}-3`, measure: 'mbb_subscriptions' },
      ]);
    },
  );

  it('sets aside, with its offsets, a batch that decompresses past the bound, and applies the feed behind it', async () => {
    // 70 MB of JSON that gzip makes about 70 kB: the broker takes it (its limit is on the
    // compressed batch), and the hub must not inflate it (MAX_DECOMPRESSED_BYTES, 64 MB).
    const props = join(process.cwd(), '.data', 'test', `bomb-${src}.properties`);
    writeFileSync(props, 'max.request.size=104857600\nbuffer.memory=209715200\n');
    const bomb = `{"schema":"lgsp.feed.v1","pad":"${'0'.repeat(70 * 1024 * 1024)}"}`;
    const sent = await java(
      [
        join('test', 'java', 'KafkaFeeds.java'),
        requireEnv('KAFKA_BROKERS'),
        'lgsp.feeds.v1',
        'plain',
        'gzip',
        props,
      ],
      `viettel\t${bomb}\n`,
    );
    expect(sent).toContain('SENT');
    const record = await eventually(
      () => dlq.records.find((r) => r.headers['lgsp-error-code'] === 'UNDECODABLE_BATCH'),
      { timeoutMs: 60_000 },
    );
    expect(record.headers['lgsp-errors']).toMatch(/larger than|maxOutputLength|more than/);
    expect(record.headers['lgsp-source-topic']).toBe('lgsp.feeds.v1');
    expect(Number(record.headers['lgsp-source-last-offset'])).toBeGreaterThanOrEqual(
      Number(record.headers['lgsp-source-offset']),
    );
    expect(record.value!.length).toBeLessThan(1024 * 1024);
    await producer.send({
      topic: 'lgsp.feeds.v1',
      acks: -1,
      messages: [{ key: 'viettel', value: JSON.stringify(goodFeed('02', 2222)) }],
    });
    await eventually(async () => ((await kpi('02'))?.numerator === 2222 ? true : undefined));
    await expectAllReady();
  });

  it('applies only the committed transactions of a transactional producer (read_committed)', async () => {
    // The aborted copy comes first with the same feedId: read, it would own the feedId and
    // the committed one would be a duplicate.
    const feedId = `java-tx-${src}`;
    const lines = [
      `abort\tviettel\t${JSON.stringify(goodFeed('22', 111, feedId))}`,
      `commit\tviettel\t${JSON.stringify(goodFeed('22', 222, feedId))}`,
    ];
    await java(
      [
        join('test', 'java', 'KafkaFeeds.java'),
        requireEnv('KAFKA_BROKERS'),
        'lgsp.feeds.v1',
        'tx',
        'zstd',
      ],
      lines.map((l) => `${l}\n`).join(''),
    );
    const k = await eventually(async () => kpi('22'), { timeoutMs: 60_000 });
    expect(k.numerator).toBe(222);
    const seen = await admin('GET', `/v1/exchanges?feedId=${feedId}&limit=10`);
    expect(seen.items.map((e: any) => e.outcome)).toEqual(['accepted']);
  });

  it("publishes KPI events Apache Kafka's Java consumer reads, CRCs checked, as the API has them", async () => {
    const api = await kpi('36');
    const out = await java([
      join('test', 'java', 'KafkaRead.java'),
      requireEnv('KAFKA_BROKERS'),
      'lgsp.kpi.v1',
      `java-warehouse-${src}`,
    ]);
    // Other files' hubs publish to the same topic on the test broker: this hub's events are
    // the ones built on this run's feeds.
    const ours = out
      .split('\n')
      .filter((l) => l.startsWith('MBB_SUB_P100|36|2024-06\t'))
      .map((l) => JSON.parse(l.slice(l.indexOf('\t') + 1)) as KpiEvent)
      .filter((e) => e.inputs.some((i) => i.feedId.includes(src)));
    expect(ours.length).toBeGreaterThan(0);
    const latest = ours.sort((a, b) => b.revision - a.revision)[0];
    expect(latest).toMatchObject({
      numerator: api!.numerator,
      revision: api!.revision,
      value: api!.value,
    });
  });

  it('left every service up and ready', async () => {
    await expectAllReady();
  });
});

/** Hostile Kafka headers: any names (__proto__ included), the hub's own with junk in them. */
const hostileHeaders: fc.Arbitrary<IHeaders> = fc
  .array(
    fc.tuple(
      fc.oneof(
        anyText,
        fc.constantFrom(
          '__proto__',
          'constructor',
          'lgsp-channel',
          'lgsp-exchange-id',
          'lgsp-replay-of',
        ),
      ),
      fc.oneof(
        anyText,
        fc.constantFrom('http', 'replay', '99999999999999999999999', '-1', '0', '1'),
        fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b)),
      ),
    ),
    { maxLength: 6 },
  )
  .map((pairs) => {
    const h: IHeaders = Object.create(null) as IHeaders;
    for (const [k, v] of pairs) h[k] = v;
    return h;
  });

/** Any record value: a hostile feed, random JSON, raw bytes, deep nesting, or none at all. */
const hostileValue: fc.Arbitrary<Buffer | null> = fc.oneof(
  { weight: 5, arbitrary: hostileFeed.map((f) => Buffer.from(JSON.stringify(f))) },
  { weight: 2, arbitrary: anyJson.map((j) => Buffer.from(JSON.stringify(j) ?? 'null')) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 33, max: 50_000 }).map((d) => Buffer.from('['.repeat(d))),
  },
  { weight: 1, arbitrary: fc.constant(null) },
);
const hostileKey = fc.oneof(
  fc.constantFrom('viettel', 'vnpt', 'gso', src),
  anyText,
  fc.constant(null),
  fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)),
);
const PER_CHANNEL = 80;
const SEED = Number(process.env.FUZZ_SEED ?? 4);

describe('generated hostile input on every channel', () => {
  const sent: { topic: string; partition: number; offset: string }[] = [];

  it(`the shared topic and a source's own topic: ${2 * PER_CHANNEL} records, each accepted or refused with coded reasons`, async () => {
    const records = fc.sample(fc.tuple(hostileKey, hostileValue, hostileHeaders), {
      numRuns: 2 * PER_CHANNEL,
      seed: SEED,
    });
    for (const [i, [k, value, headers]] of records.entries()) {
      const topic = i % 2 === 0 ? 'lgsp.feeds.v1' : `lgsp.feeds.v1.${src}`;
      const [meta] = await producer.send({
        topic,
        acks: -1,
        messages: [{ key: k, value, headers }],
      });
      sent.push({ topic, partition: meta!.partition, offset: meta!.baseOffset! });
    }
    // A good feed behind them all still reaches its figure.
    await producer.send({
      topic: 'lgsp.feeds.v1',
      acks: -1,
      messages: [{ key: 'viettel', value: JSON.stringify(goodFeed('37', 7777)) }],
    });
    await eventually(async () => ((await kpi('37'))?.numerator === 7777 ? true : undefined), {
      timeoutMs: 90_000,
    });

    // Every record is on record: accepted, a duplicate, or rejected with a known code and on
    // the DLQ with its reasons.
    const exchanges = await eventually(
      async () => {
        const all: any[] = [];
        for (let after = '0'; ;) {
          const page = await admin(
            'GET',
            `/v1/exchanges?from=${encodeURIComponent(startedAt)}&limit=1000&after=${after}`,
          );
          all.push(...page.items);
          if (page.items.length < 1000) break;
          after = page.items.at(-1).id;
        }
        const at = (s: (typeof sent)[number]) =>
          all.find(
            (e) =>
              e.kafka?.topic === s.topic &&
              e.kafka.partition === s.partition &&
              String(e.kafka.offset) === s.offset,
          );
        return sent.every((s) => ['accepted', 'duplicate', 'rejected'].includes(at(s)?.outcome))
          ? sent.map(at)
          : undefined;
      },
      { timeoutMs: 90_000 },
    );
    const rejected = exchanges.filter((e) => e.outcome === 'rejected');
    for (const e of rejected)
      expect([e.errorCode, CODES.has(e.errorCode)]).toEqual([e.errorCode, true]);
    await eventually(() =>
      rejected.every((e) =>
        dlq.records.some(
          (r) =>
            r.headers['lgsp-source-topic'] === e.kafka.topic &&
            r.headers['lgsp-source-offset'] === String(e.kafka.offset) &&
            r.headers['lgsp-source-partition'] === String(e.kafka.partition) &&
            CODES.has(r.headers['lgsp-error-code']!),
        ),
      )
        ? true
        : undefined,
    );
    // The generators reach both sides.
    expect(rejected.length).toBeGreaterThan(PER_CHANNEL);
    await expectAllReady();
  });

  const post = async (path: string, body: Buffer | string) => {
    const r = await fetch(hub.url('ingest', path), {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body,
    });
    return { status: r.status, body: (await r.json()) as { errors?: { code: string }[] } };
  };

  it(`HTTP JSON: ${PER_CHANNEL} bodies, each 202 or refused with coded reasons`, async () => {
    const bodies = fc.sample(
      fc.oneof(
        hostileFeed.map((f) => Buffer.from(JSON.stringify({ ...f, source: src }))),
        hostileValue.map((v) => v ?? Buffer.alloc(0)),
      ),
      { numRuns: PER_CHANNEL, seed: SEED + 1 },
    );
    const statuses: number[] = [];
    for (const body of bodies) {
      const r = await post('/v1/feeds', body);
      statuses.push(r.status);
      expect([202, 400, 403]).toContain(r.status);
      if (r.status !== 202) for (const e of r.body.errors!) expect(CODES.has(e.code)).toBe(true);
    }
    expect(statuses.filter((s) => s !== 202).length).toBeGreaterThan(PER_CHANNEL / 2);
    await expectAllReady();
  });

  it(`HTTP CSV: ${PER_CHANNEL} bodies, each 202 or refused with coded reasons`, async () => {
    const cell = fc.oneof(
      anyText,
      fc.constantFrom('37', '01', 'mbb_subscriptions', 'bts_sites', '1000', 'null', 'a|b', '"'),
    );
    const csv = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 400 }),
      fc
        .tuple(
          fc.constantFrom(',', ';', '\t'),
          fc.array(fc.array(cell, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 6 }),
        )
        .map(([d, rows]) =>
          [['area', 'measure', 'value', 'items'], ...rows].map((r) => r.join(d)).join('\r\n'),
        ),
    );
    const bodies = fc.sample(csv, { numRuns: PER_CHANNEL, seed: SEED + 2 });
    for (const [i, body] of bodies.entries()) {
      const q = `/v1/feeds/csv?feedId=${src}-csv-${i}&period=2024-06&sentAt=${encodeURIComponent('2024-07-05T08:00:00+07:00')}`;
      const r = await post(q, body);
      expect([202, 400, 403]).toContain(r.status);
      if (r.status !== 202) for (const e of r.body.errors!) expect(CODES.has(e.code)).toBe(true);
    }
    // Good feeds still flow, and everything is up.
    await producer.send({
      topic: 'lgsp.feeds.v1',
      acks: -1,
      messages: [{ key: 'viettel', value: JSON.stringify(goodFeed('37', 8888)) }],
    });
    await eventually(async () => ((await kpi('37'))?.numerator === 8888 ? true : undefined));
    await expectAllReady();
  });
});

describe('GET /v1/kpis in pages', () => {
  it('walks every key once with limit and after, where one call gives them all', async () => {
    const all = await admin('GET', '/v1/kpis?period=2024-06');
    expect(all.more).toBe(false);
    expect(all.count).toBeGreaterThan(5);
    const keys: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const q: string = `/v1/kpis?period=2024-06&limit=3${after ? `&after=${encodeURIComponent(after)}` : ''}`;
      const page = await admin('GET', q);
      expect(page.items.length).toBeLessThanOrEqual(3);
      keys.push(...page.items.map((e: KpiEvent) => `${e.kpi}|${e.area}|${e.period}`));
      after = page.next as string | null;
      if (!page.more) break;
    }
    expect(after).toBeNull();
    expect(keys).toEqual(all.items.map((e: KpiEvent) => `${e.kpi}|${e.area}|${e.period}`));
    const bad = await fetch(hub.url('api', '/v1/kpis?after=nonsense'));
    expect(bad.status).toBe(400);
  });
});
