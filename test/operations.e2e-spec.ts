/**
 * What the ops team sees: Prometheus metrics on every service, and health checks that say
 * which service is stuck and why, not only whether its HTTP port answers.
 */
import { readFileSync } from 'node:fs';
import {
  eventually,
  FeedSender,
  type HubProcesses,
  kafkaClient,
  type ServiceName,
  startTestHub,
} from '@app/testing';
import pg from 'pg';

let hub: HubProcesses;
let databaseUrl: string;
let run: string;
let sender: FeedSender;

interface Health {
  status: string;
  checks: Record<string, { ok: boolean; detail?: { stalled?: boolean; lag?: number } }>;
}
const health = async (service: ServiceName): Promise<[number, Health]> => {
  const r = await fetch(hub.url(service, '/health'));
  return [r.status, (await r.json()) as Health];
};
const metric = async (service: ServiceName, name: string): Promise<number> => {
  const text = await (await fetch(hub.url(service, '/metrics'))).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((s, l) => s + Number(l.split(' ').at(-1)), 0);
};
const feed = (feedId: string, value: number) => ({
  schema: 'lgsp.feed.v1',
  feedId: `${feedId}-${run}`,
  source: 'mobifone',
  sentAt: '2024-02-05T08:00:00Z',
  period: '2024-01',
  observations: [{ area: '14386', measure: 'fbb_subscriptions', value }],
});

beforeAll(async () => {
  ({ hub, databaseUrl, run } = await startTestHub(
    'ops',
    13_300,
    { CONSUMER_STALL_SECONDS: '2' },
    undefined,
    // The api logs its access lines (at info) for the access-log test.
    { api: { LOG_LEVEL: 'log' } },
  ));
  sender = await new FeedSender(kafkaClient()).start();
});

afterAll(async () => {
  await Promise.all([sender?.stop(), hub?.stopAll()]);
});

describe('metrics', () => {
  it('count feeds accepted and rejected by code, batches, lag and KPI events on every service', async () => {
    await sender.send([feed('ops-1', 10), '{"not": "a feed"}'], () => 'mobifone');
    await eventually(
      async () =>
        (await metric('relay', 'lgsp_kpi_events_published_total')) >= 1 ? true : undefined,
      {
        what: 'an event to be published',
      },
    );
    expect(await metric('ingest', 'lgsp_feeds_accepted_total')).toBeGreaterThanOrEqual(1);
    expect(
      await metric('ingest', 'lgsp_feeds_rejected_total{service="ingest",code='),
    ).toBeGreaterThanOrEqual(1);
    expect(await metric('ingest', 'lgsp_batch_size_count')).toBeGreaterThanOrEqual(1);
    expect(await metric('aggregator', 'lgsp_batch_duration_seconds_count')).toBeGreaterThanOrEqual(
      1,
    );
    expect(await metric('aggregator', 'lgsp_kpi_events_written_total')).toBeGreaterThanOrEqual(1);
    const text = await (await fetch(hub.url('aggregator', '/metrics'))).text();
    expect(text).toMatch(
      /lgsp_consumer_lag\{group="aggregator-ops-[^"]+",topic="lgsp.feed-slices.v1",partition="\d+"\} \d/,
    );
    // Everything applied is published: no change is waiting, nothing is left to relay.
    expect(text).toMatch(/^lgsp_kpi_unpublished_seconds 0$/m);
    expect(await metric('relay', 'lgsp_outbox_backlog')).toBe(0);
    const [status, relay] = await health('relay');
    expect(status).toBe(200);
    expect(relay.checks.outbox).toMatchObject({ ok: true, detail: { leader: true, backlog: 0 } });
    expect((await fetch(hub.url('api', '/metrics'))).status).toBe(200);
  });

  it("include Node's default metrics under their standard names", async () => {
    for (const service of ['ingest', 'aggregator', 'relay', 'api'] as const) {
      const text = await (await fetch(hub.url(service, '/metrics'))).text();
      expect(text).toMatch(/^process_cpu_seconds_total \d/m);
      expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m);
      expect(text).not.toMatch(/^lgsp_process_/m);
    }
  });

  it("show the memory of the aggregator's held state by part, in /metrics as in /health", async () => {
    // The feed above is published: its group holds observations and published keys, no marks.
    const published = await eventually(
      async () => {
        const b = await metric('aggregator', 'lgsp_aggregation_state_bytes{part="published"}');
        return b > 0 ? b : undefined;
      },
      { what: 'the published state to be counted' },
    );
    expect(
      await metric('aggregator', 'lgsp_aggregation_state_bytes{part="observations"}'),
    ).toBeGreaterThan(0);
    expect(await metric('aggregator', 'lgsp_aggregation_state_bytes{part="dirty"}')).toBe(0);
    expect(await metric('aggregator', 'lgsp_aggregation_state_bytes{part="pending"}')).toBe(0);
    const [, h] = await health('aggregator');
    const mb = (h.checks.kpis!.detail as unknown as { stateMb: Record<string, number> }).stateMb;
    // MB with one decimal in /health, bytes in /metrics.
    expect(Math.abs(mb.published! - published / 2 ** 20)).toBeLessThanOrEqual(0.05);
    const total = await metric('aggregator', 'lgsp_aggregation_state_bytes');
    expect(Math.abs(mb.total! - total / 2 ** 20)).toBeLessThanOrEqual(0.05);
  });
});

describe('health', () => {
  it('reports the aggregator stalled while its database blocks it, and healthy once it moves again', async () => {
    expect((await health('aggregator'))[0]).toBe(200);
    const blocker = new pg.Client({ connectionString: databaseUrl });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE feed_slice IN ACCESS EXCLUSIVE MODE');
      await sender.send([feed('ops-2', 20)]);
      const [status, body] = await eventually(
        async () => {
          const h = await health('aggregator');
          return h[0] === 503 ? h : undefined;
        },
        { timeoutMs: 30_000, what: 'the aggregator to report itself stalled' },
      );
      expect(status).toBe(503);
      expect(body.checks.consumer).toMatchObject({ ok: false, detail: { stalled: true } });
      expect(body.checks.consumer!.detail!.lag).toBeGreaterThan(0);
      expect(body.checks.database!.ok).toBe(true);
      expect((await health('ingest'))[0]).toBe(200);
      // Not ready, but not dead: restarting it would not help.
      expect((await fetch(hub.url('aggregator', '/health/live'))).status).toBe(200);
      expect((await fetch(hub.url('aggregator', '/health/ready'))).status).toBe(503);
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    await eventually(async () => ((await health('aggregator'))[0] === 200 ? true : undefined), {
      timeoutMs: 30_000,
      what: 'the aggregator to be healthy again',
    });
  });

  it('reports the api unhealthy, with the reason, when its database is gone', async () => {
    const name = new URL(databaseUrl).pathname.slice(1);
    const admin = new pg.Client({ connectionString: new URL('/postgres', databaseUrl).toString() });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
    const [status, body] = await eventually(
      async () => {
        const h = await health('api');
        return h[0] === 503 ? h : undefined;
      },
      { what: 'the api to report its database' },
    );
    expect(status).toBe(503);
    expect(body.checks.database).toMatchObject({ ok: false });
    expect(JSON.stringify(body.checks.database)).toMatch(/terminat|does not exist|connect/i);
    expect((await fetch(hub.url('api', '/health/ready'))).status).toBe(503);
    expect((await fetch(hub.url('api', '/health/live'))).status).toBe(200);
  });
});

describe('access logs', () => {
  it("answer with the caller's request id, or a new one, and log one line per request", async () => {
    const given = await fetch(hub.url('api', '/v1/catalogue'), {
      headers: { 'x-request-id': 'ops-req-42' },
    });
    expect(given.headers.get('x-request-id')).toBe('ops-req-42');
    const hostile = await fetch(hub.url('api', '/v1/catalogue'), {
      headers: { 'x-request-id': 'a'.repeat(500) },
    });
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const log = await eventually(
      () => {
        const text = readFileSync(hub.logFile('api'), 'utf8');
        return text.includes('ops-req-42') ? text : undefined;
      },
      { what: 'the access line in the api log' },
    );
    const line = JSON.parse(log.split('\n').find((l) => l.includes('"ops-req-42"'))!) as {
      req: { id: string; method: string; url: string; headers?: unknown };
      res: { statusCode: number };
    };
    expect(line.req).toMatchObject({ id: 'ops-req-42', method: 'GET', url: '/v1/catalogue' });
    expect(line.req.headers).toBeUndefined();
    expect(line.res.statusCode).toBe(200);
  });
});
