/* eslint-disable @typescript-eslint/no-explicit-any -- the JSON bodies of the API under test */
/**
 * The hub on a secured broker (issue 24): a Kafka 3.9 of its own with SASL_SSL (SCRAM-SHA-512),
 * TLS from the CA the project makes, KRaft's StandardAuthorizer and least-privilege ACLs;
 * every service on it as its own principal. A source onboarded through the admin API writes
 * its own topic with Apache Kafka's Java producer and nothing else; a wrong password and a
 * plaintext client get nowhere; the warehouse reads the KPI events and nothing else.
 */
import type { KpiEvent } from '@app/contract';
import {
  callJson,
  eventually,
  type HubProcesses,
  kafkaJars,
  runJava,
  startTestHub,
  uniqueSuffix,
} from '@app/testing';
import { Kafka, logLevel } from 'kafkajs';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PROFILES, startKafka, stopKafka } from '../scripts/infra.mjs';
import { credentials, serviceEnv, writeJavaClientProps } from '../scripts/kafka/secure.mjs';

const ADMIN_TOKEN = 'e2e-admin-token-secure-0123456789';
const profile = PROFILES['test-secure'];
const workDir = join(profile.dir, 'e2e');
let hub: HubProcesses;
let brokers: string;
const src = `op-${uniqueSuffix()}`.toLowerCase();
let kafkaPassword: string;

const admin = async (method: string, path: string, body?: unknown) =>
  callJson<Record<string, any>>(hub.url('api', path), method, ADMIN_TOKEN, body);

/** Client properties for Apache Kafka's Java clients, as `user`. */
const clientProps = (user: string, password: string): string =>
  writeJavaClientProps(
    profile.dir,
    join(workDir, `${user}-${uniqueSuffix()}.properties`),
    user,
    password,
  );

let good = 0;
const feed = (source: string, value: number, area = '37') => ({
  schema: 'lgsp.feed.v1',
  feedId: `${source}-secure-${++good}`,
  source,
  sentAt: '2024-07-05T08:00:00+07:00',
  period: '2024-06',
  observations: [{ area, measure: 'mbb_subscriptions', value }],
});

/** Sends one feed with the Java producer as `user`; resolves with what it printed. */
const javaSend = async (topic: string, props: string, f: object) =>
  runJava(
    [join('test', 'java', 'KafkaFeeds.java'), brokers, topic, 'plain', 'lz4', props],
    `${(f as { source: string }).source}\t${JSON.stringify(f)}\n`,
  );

const kpi = async (area: string): Promise<KpiEvent | undefined> => {
  const r = await fetch(hub.url('api', `/v1/kpis?kpi=MBB_SUB_P100&area=${area}&period=2024-06`));
  return ((await r.json()) as { items: KpiEvent[] }).items[0];
};

beforeAll(async () => {
  mkdirSync(workDir, { recursive: true });
  ({ brokers } = await startKafka('test-secure'));
  const run = uniqueSuffix();
  const own = (service: string) => serviceEnv(profile.dir, service);
  ({ hub } = await startTestHub(
    'secure',
    13_900,
    {
      ADMIN_TOKEN,
      KAFKA_BROKERS: brokers,
      // The service ACLs allow the hub's groups by prefix.
      INGEST_GROUP: `lgsp-ingest-${run}`,
      AGGREGATOR_GROUP: `lgsp-aggregator-${run}`,
      SOURCE_TOPICS_REFRESH_MS: '500',
    },
    undefined,
    {
      ingest: own('ingest'),
      aggregator: own('aggregator'),
      relay: own('relay'),
      api: { ...own('api'), KAFKA_TOOLS_CLASSPATH: kafkaJars() },
    },
  ));
}, 240_000);

afterAll(async () => {
  await hub?.stopAll();
  await stopKafka('test-secure');
});

describe('a source onboarded through the admin API', () => {
  it('gets a SCRAM credential for its own topic, shown once', async () => {
    const r = await admin('POST', '/v1/sources', {
      id: src,
      kind: 'operator',
      displayName: 'Secure operator',
      measures: ['mbb_subscriptions'],
      reports: { every: 'month', dueDays: 15 },
    });
    expect(r.status).toBe(201);
    expect(r.body.kafka).toMatchObject({
      bootstrap: brokers,
      securityProtocol: 'SASL_SSL',
      mechanism: 'SCRAM-SHA-512',
      username: src,
      topic: `lgsp.feeds.v1.${src}`,
    });
    kafkaPassword = r.body.kafka.password as string;
    expect(kafkaPassword.length).toBeGreaterThanOrEqual(20);
    expect(JSON.stringify((await admin('GET', `/v1/sources/${src}`)).body)).not.toContain(
      kafkaPassword,
    );
  });

  it("writes its own topic with Kafka's Java producer, and the feed reaches its KPI over SASL_SSL", async () => {
    // The ingest joins the new topic within SOURCE_TOPICS_REFRESH_MS.
    const sent = await javaSend(
      `lgsp.feeds.v1.${src}`,
      clientProps(src, kafkaPassword),
      feed(src, 5_000),
    );
    expect(sent.out).toContain('SENT');
    const k = await eventually(
      async () => ((await kpi('37'))?.numerator === 5_000 ? kpi('37') : undefined),
      {
        timeoutMs: 60_000,
      },
    );
    expect(k.inputs).toEqual([expect.objectContaining({ source: src })]);
  });

  it("is refused another source's topic and the shared topic", async () => {
    const props = clientProps(src, kafkaPassword);
    const other = await javaSend('lgsp.feeds.v1.viettel', props, feed('viettel', 1));
    expect(other.out).toMatch(/FAILED TopicAuthorizationException/);
    const shared = await javaSend('lgsp.feeds.v1', props, feed(src, 2));
    expect(shared.out).toMatch(/FAILED TopicAuthorizationException/);
  });

  it('is refused with a wrong password, and a plaintext client gets nowhere', async () => {
    const wrong = await javaSend(
      `lgsp.feeds.v1.${src}`,
      clientProps(src, `${kafkaPassword}x`),
      feed(src, 3),
    );
    expect(wrong.out).toMatch(/FAILED SaslAuthenticationException/);
    const plaintext = new Kafka({
      clientId: 'plaintext-probe',
      brokers: [brokers],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3_000,
      retry: { retries: 0 },
    }).producer();
    await expect(plaintext.connect()).rejects.toThrow();
  });

  it('suspended, it may write nothing; active again, its own topic; a rotated password replaces the old; removed, it gets nowhere', async () => {
    expect((await admin('PATCH', `/v1/sources/${src}`, { active: false })).status).toBe(200);
    const props = clientProps(src, kafkaPassword);
    expect((await javaSend(`lgsp.feeds.v1.${src}`, props, feed(src, 4))).out).toMatch(
      /FAILED TopicAuthorizationException/,
    );
    expect((await admin('PATCH', `/v1/sources/${src}`, { active: true })).status).toBe(200);
    const rotated = await admin('POST', `/v1/sources/${src}/kafka-credential`);
    expect(rotated.status).toBe(201);
    expect((await javaSend(`lgsp.feeds.v1.${src}`, props, feed(src, 6))).out).toMatch(
      /FAILED SaslAuthenticationException/,
    );
    const fresh = clientProps(src, rotated.body.password as string);
    expect((await javaSend(`lgsp.feeds.v1.${src}`, fresh, feed(src, 7_000))).out).toContain('SENT');
    await eventually(async () => ((await kpi('37'))?.numerator === 7_000 ? true : undefined), {
      timeoutMs: 60_000,
    });
    const removed = await admin('DELETE', `/v1/sources/${src}/kafka-credential`);
    expect(removed.status).toBe(200);
    expect((await javaSend(`lgsp.feeds.v1.${src}`, fresh, feed(src, 8))).out).toMatch(
      /FAILED SaslAuthenticationException/,
    );
  });
});

describe('the warehouse principal', () => {
  it("reads lgsp.kpi.v1 and lgsp.kpi.rebased.v1 with Kafka's Java consumer, and may not read the feeds", async () => {
    const { users } = credentials(profile.dir);
    const props = clientProps('warehouse', users.warehouse!);
    const consume = (topic: string) =>
      runJava([
        join('test', 'java', 'KafkaRead.java'),
        brokers,
        topic,
        `warehouse-e2e-${uniqueSuffix()}`,
        props,
      ]);
    const kpis = await consume('lgsp.kpi.v1');
    expect(kpis.out).toContain('MBB_SUB_P100|37|2024-06');
    // and new Ninh Bình's re-based history (contract v1.1), under the same key, on its topic
    const rebased = await consume('lgsp.kpi.rebased.v1');
    const line = rebased.out.split('\n').find((l) => l.startsWith('MBB_SUB_P100|37|2024-06\t'));
    expect(JSON.parse(line!.split('\t')[1]!)).toMatchObject({
      areaSet: '2025',
      basis: 'rebased-2025',
    });
    const feeds = await consume('lgsp.feeds.v1');
    expect(feeds.out).toMatch(/FAILED TopicAuthorizationException/);
  });
});
