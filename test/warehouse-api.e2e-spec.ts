/**
 * What the data warehouse and the planners use: plans loaded as data, targets and attainment
 * on the KPIs, an incremental change feed with a cursor, CSV, time series, the OpenAPI document.
 */
import type { KpiEvent } from '@app/contract';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import {
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
let kpis: TopicWatcher;
let sender: FeedSender;

const plan = {
  planId: 'ninh-binh-hts-2023-2025',
  issuingBody: 'UBND tỉnh Ninh Bình',
  documentNumber: 'Kế hoạch phát triển hạ tầng số 2023-2025',
  issuedOn: '2023-09-01',
  area: '37',
  targets: [{ kpi: 'MBB_SUB_P100', period: '2025', value: 80, unit: 'percent' }],
};

const post = (body: unknown, token?: string) =>
  fetch(hub.url('api', '/v1/plans'), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  ({ hub, run } = await startTestHub('warehouse', 13_200, { ADMIN_TOKEN }));
  const kafka = kafkaClient();
  kpis = await new TopicWatcher(kafka, 'lgsp.kpi.v1').start();
  sender = await new FeedSender(kafka).start();
});

afterAll(async () => {
  await Promise.all([sender?.stop(), kpis?.stop(), hub?.stopAll()]);
});

describe('plans', () => {
  it('are loaded only with the admin token, whole or not at all, with "80 %" read as 80 per 100', async () => {
    expect((await post({ plans: [plan] })).status).toBe(401);
    expect((await post({ plans: [plan] }, 'wrong-token-0123456789')).status).toBe(401);
    const bad = await post({ plans: [plan, { ...plan, planId: 'x', area: '99' }] }, ADMIN_TOKEN);
    expect(bad.status).toBe(400);
    expect(JSON.stringify((await bad.json()) as object)).toMatch(/area 99 is not a unit/);
    const none = await fetch(hub.url('api', '/v1/targets?area=37'));
    expect(((await none.json()) as { count: number }).count).toBe(0);

    const ok = await post({ plans: [plan] }, ADMIN_TOKEN);
    expect(ok.status).toBe(201);
    const body = (await ok.json()) as { loaded: number; warnings: string[] };
    expect(body.loaded).toBe(1);
    expect(body.warnings.join('\n')).toMatch(/"80 %" read as 80 per 100 inhabitants/);
  });
});

describe('a KPI with a plan target', () => {
  it('carries the target and the attainment in its event and in the API', async () => {
    await sender.send([
      {
        schema: 'lgsp.feed.v1',
        feedId: `gso-37-2023-${run}`,
        source: 'gso',
        sentAt: '2024-03-01T00:00:00Z',
        period: '2023',
        observations: [{ area: '37', measure: 'population', value: 1_010_700 }],
      },
    ]);
    await eventually(
      async () => {
        // the population is in before the subscriptions: one event, with its value
        const r = await fetch(hub.url('aggregator', '/health'));
        const h = (await r.json()) as { checks: { consumer: { detail: { slices: number } } } };
        return h.checks.consumer.detail.slices >= 1 ? true : undefined;
      },
      { what: 'the population feed to be applied' },
    );
    await sender.send([
      {
        schema: 'lgsp.feed.v1',
        feedId: `vt-37-2023-06-${run}`,
        source: 'viettel',
        sentAt: '2023-07-05T08:00:00+07:00',
        period: '2023-06',
        observations: [{ area: '37', measure: 'mbb_subscriptions', value: 694_250 }],
      },
    ]);
    const key = 'MBB_SUB_P100|37|2023-H1';
    const event = await eventually(
      () =>
        kpis
          .byKey(key)
          .map((r) => r.json<KpiEvent>())
          .find((e) => e.value !== null && e.inputs.some((i) => i.feedId.endsWith(run))),
      { what: `${key} with a value` },
    );
    expect(event.value).toBeCloseTo(68.69, 2);
    expect(event.target).toMatchObject({
      target: 80,
      targetPeriod: '2025',
      basis: 'level',
      met: false,
      planId: plan.planId,
    });
    expect(event.target!.ratio).toBeCloseTo(68.69 / 80, 3);
    const api = await hub.getJson<{ items: KpiEvent[] }>(
      'api',
      '/v1/kpis?area=37&period=2023-H1&kpi=MBB_SUB_P100',
    );
    expect(api.items[0]!.target).toEqual(event.target);
  });
});

describe('the warehouse API', () => {
  it('lets a warehouse load every change with a cursor, ending where the API stands', async () => {
    const seen: KpiEvent[] = [];
    await eventually(
      async () => {
        let after = '0';
        seen.length = 0;
        for (let pages = 0; pages < 10_000; pages++) {
          const page = await hub.getJson<{ items: KpiEvent[]; next: string; more: boolean }>(
            'api',
            `/v1/kpi-changes?after=${after}&limit=5`,
          );
          seen.push(...page.items);
          after = page.next;
          if (!page.more) break;
        }
        const api = await hub.getJson<{ items: KpiEvent[] }>('api', '/v1/kpis');
        const latest = new Map<string, KpiEvent>();
        for (const e of seen) latest.set(`${e.kpi}|${e.area}|${e.period}`, e);
        return api.items.length > 0 &&
          api.items.length === latest.size &&
          api.items.every((a) => {
            const c = latest.get(`${a.kpi}|${a.area}|${a.period}`);
            return c && c.revision === a.revision && c.eventId === a.eventId && c.value === a.value;
          })
          ? true
          : undefined;
      },
      { what: 'the change feed to end where the API stands' },
    );
    const pairs = seen.map((e) => `${e.kpi}|${e.area}|${e.period}|${e.revision}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    expect((await fetch(hub.url('api', '/v1/kpi-changes?after=abc'))).status).toBe(400);
  });

  it('exports a KPI query as CSV', async () => {
    const r = await fetch(
      hub.url('api', '/v1/kpis?area=37&period=2023-H1&kpi=MBB_SUB_P100&format=csv'),
    );
    expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
    const [header, row] = (await r.text()).trim().split('\r\n');
    expect(header!.split(',').slice(0, 6)).toEqual([
      'kpi',
      'area',
      'areaSet',
      'areaName',
      'period',
      'value',
    ]);
    const cells = row!.split(',');
    expect(cells.slice(0, 5)).toEqual(['MBB_SUB_P100', '37', '2008', 'Ninh Bình', '2023-H1']);
    expect(Number(cells[5])).toBeCloseTo(68.69, 2);
    expect(header!.split(',').at(-1)).toBe('basis');
    expect(cells.at(-1)).toBe('published');
  });

  it("serves a KPI's time series of one unit, oldest first, by granularity", async () => {
    const all = await hub.getJson<{ areaSet: string; items: KpiEvent[] }>(
      'api',
      '/v1/kpis/series?kpi=MBB_SUB_P100&area=37&areaSet=2008',
    );
    expect(all.items.map((e) => e.period)).toEqual(['2023', '2023-H1', '2023-Q2', '2023-06']);
    expect(all.items.every((e) => e.areaSet === '2008')).toBe(true);
    const months = await hub.getJson<{ items: KpiEvent[] }>(
      'api',
      '/v1/kpis/series?kpi=MBB_SUB_P100&area=37&areaSet=2008&granularity=month',
    );
    expect(months.items.map((e) => e.period)).toEqual(['2023-06']);
    // Without areaSet: the unit the code names today, new Ninh Bình, which has no 2023 figures.
    const today = await hub.getJson<{ areaSet: string; note: string; items: KpiEvent[] }>(
      'api',
      '/v1/kpis/series?kpi=MBB_SUB_P100&area=37',
    );
    expect(today.areaSet).toBe('2025');
    expect(today.note).toMatch(/areaSet=2008 for the unit it named before/);
    expect(today.items).toEqual([]);
  });

  it('describes itself: OpenAPI at /docs, the catalogue and both sets of areas', async () => {
    const doc = await hub.getJson<{ paths: Record<string, unknown> }>('api', '/docs/openapi.json');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/kpis',
        '/v1/kpis/series',
        '/v1/kpi-changes',
        '/v1/catalogue',
        '/v1/areas',
        '/v1/plans',
        '/v1/targets',
      ]),
    );
    const cat = await hub.getJson<{ kpis: { code: string; formula: string }[] }>(
      'api',
      '/v1/catalogue',
    );
    expect(cat.kpis.find((k) => k.code === 'BTS_SITE_SHARE')!.formula).toBe(
      'count(shared bts_sites) / count(union bts_sites) × 100',
    );
    const old = await hub.getJson<{ count: number }>('api', '/v1/areas?set=2008&level=province');
    const now = await hub.getJson<{ count: number }>('api', '/v1/areas?set=2025&level=province');
    expect([old.count, now.count]).toEqual([63, 34]);
  });

  it('documents a typed answer for every operation of every service, and answers as documented', async () => {
    type Op = { responses: Record<string, { content?: Record<string, { schema?: object }> }> };
    for (const service of ['api', 'ingest', 'aggregator', 'relay'] as const) {
      const doc = await hub.getJson<{ paths: Record<string, Record<string, Op>> }>(
        service,
        '/docs/openapi.json',
      );
      for (const [path, ops] of Object.entries(doc.paths))
        for (const [method, op] of Object.entries(ops)) {
          const answers = Object.entries(op.responses).filter(([status]) => /^2/.test(status));
          const typed =
            answers.length > 0 &&
            answers.every(([, r]) => Object.values(r.content ?? {}).some((c) => c.schema));
          expect(`${service} ${method} ${path}: ${typed ? 'typed' : 'untyped'}`).toMatch(/typed$/);
          expect(typed).toBe(true);
        }
    }
    // What the API answers matches its own document (required fields, types, nullability).
    const api = await hub.getJson<object>('api', '/docs/openapi.json');
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema(nullableAsJsonSchema(api) as object, 'api');
    for (const [schema, path] of [
      ['KpiPage', '/v1/kpis?area=37'],
      ['KpiChangesPage', '/v1/kpi-changes?after=0&limit=50'],
      ['CatalogueView', '/v1/catalogue'],
      ['TargetList', '/v1/targets?area=37'],
      ['SourceList', '/v1/sources'],
      ['PipelineView', '/v1/pipeline'],
      ['ReportView', '/v1/reports/37/2023-H1?format=json'],
      ['ApprovalList', '/v1/approvals'],
    ] as const) {
      const check = ajv.compile({ $ref: `api#/components/schemas/${schema}` });
      const body = await hub.getJson<{ items?: unknown[] }>('api', path);
      expect([path, check(body) ? 'matches' : JSON.stringify(check.errors)]).toEqual([
        path,
        'matches',
      ]);
    }
    const kpis = await hub.getJson<{ count: number }>('api', '/v1/kpis?area=37');
    expect(kpis.count).toBeGreaterThan(0);
    // Producers get the feed's JSON Schema from the ingest.
    const feedSchema = await hub.getJson<{ title: string; required: string[] }>(
      'ingest',
      '/v1/feeds/schema',
    );
    expect(feedSchema.title).toBe('lgsp.feed.v1');
    expect(feedSchema.required).toContain('observations');
  });
});

/** OpenAPI 3.0's `nullable: true` as JSON Schema says it: the schema, or null. */
function nullableAsJsonSchema(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(nullableAsJsonSchema);
  if (typeof v !== 'object' || v === null) return v;
  const { nullable, ...rest } = v as Record<string, unknown>;
  const out = Object.fromEntries(
    Object.entries(rest).map(([k, x]) => [k, nullableAsJsonSchema(x)]),
  );
  return nullable === true ? { anyOf: [out, { type: 'null' }] } : out;
}
