/* eslint-disable @typescript-eslint/no-explicit-any -- the JSON bodies of the API under test */
/**
 * People and roles over HTTP (issue 24): named tokens, stored hashed, with roles, province
 * limits, expiry, rotation and revocation; a read API that requires a token; and every admin
 * action on record, through the API and the CLI.
 */
import type { KpiEvent } from '@app/contract';
import {
  eventually,
  FeedSender,
  type HubProcesses,
  kafkaClient,
  startTestHub,
  uniqueSuffix,
} from '@app/testing';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';

const ADMIN_TOKEN = 'e2e-admin-token-roles-0123456789';
let hub: HubProcesses;
let databaseUrl: string;
let sender: FeedSender;
const tokens: Record<string, { id: string; token: string }> = {};

const call = async (method: string, path: string, token?: string, body?: unknown) => {
  const r = await fetch(hub.url('api', path), {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, body: (await r.json().catch(() => ({}))) as Record<string, any> };
};
const issue = async (name: string, body: Record<string, unknown>) => {
  const r = await call('POST', '/v1/tokens', ADMIN_TOKEN, { name, ...body });
  expect(r.status).toBe(201);
  tokens[name] = { id: r.body.id as string, token: r.body.token as string };
  return r.body;
};
const run = uniqueSuffix();
const feed = (area: string, value: number) => ({
  schema: 'lgsp.feed.v1',
  feedId: `roles-${run}-${area}-${value}`,
  source: 'viettel',
  sentAt: '2024-07-05T08:00:00+07:00',
  period: '2024-06',
  observations: [{ area, measure: 'mbb_subscriptions', value }],
});

beforeAll(async () => {
  ({ hub, databaseUrl } = await startTestHub('roles', 14_000, {
    ADMIN_TOKEN,
    READ_API_REQUIRES_TOKEN: 'true',
  }));
  sender = await new FeedSender(kafkaClient()).start();
  await issue('warehouse-37', { role: 'reader', provinces: ['37'] });
  await issue('ops-team', { role: 'ops' });
  await issue('admin-2', { role: 'admin', expiresInDays: 30 });
  await sender.send([feed('37', 1_000), feed('01', 2_000)]);
  await eventually(async () => {
    const r = await call('GET', '/v1/kpis?kpi=MBB_SUB_P100&period=2024-06', ADMIN_TOKEN);
    return r.body.items?.length === 2 ? true : undefined;
  });
});

afterAll(async () => {
  await Promise.all([sender?.stop(), hub?.stopAll()]);
});

describe('named tokens', () => {
  it('are shown once and stored as their SHA-256 only', async () => {
    const listed = await call('GET', '/v1/tokens', ADMIN_TOKEN);
    expect(listed.body.items.map((t: any) => [t.name, t.role, t.provinces])).toEqual([
      ['warehouse-37', 'reader', ['37']],
      ['ops-team', 'ops', null],
      ['admin-2', 'admin', null],
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(tokens['ops-team']!.token);
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query(`SELECT * FROM api_token`);
      const stored = JSON.stringify(rows);
      for (const t of Object.values(tokens)) expect(stored).not.toContain(t.token);
      expect(
        rows.every((r: any) => Buffer.isBuffer(r.token_sha256) && r.token_sha256.length === 32),
      ).toBe(true);
    } finally {
      await db.end();
    }
  });

  it('let each role do what it is for, and nothing more', async () => {
    const reader = tokens['warehouse-37']!.token;
    const ops = tokens['ops-team']!.token;
    const admin = tokens['admin-2']!.token;
    expect((await call('GET', '/v1/kpis', reader)).status).toBe(200);
    expect((await call('GET', '/v1/dlq', reader)).status).toBe(403);
    expect((await call('GET', '/v1/tokens', reader)).status).toBe(403);
    expect((await call('GET', '/v1/dlq', ops)).status).toBe(200);
    expect((await call('GET', '/v1/exchanges', ops)).status).toBe(200);
    const refused = await call('POST', '/v1/plans', ops, { plans: [] });
    expect([refused.status, refused.body.message]).toEqual([
      403,
      'token "ops-team" has the role ops; this needs admin',
    ]);
    const created = await call('POST', '/v1/sources', admin, {
      id: `src-${run}`.toLowerCase(),
      kind: 'operator',
      displayName: 'Roles',
      measures: ['mbb_subscriptions'],
      reports: { every: 'month', dueDays: 15 },
    });
    expect(created.status).toBe(201);
    expect(
      (await call('PATCH', `/v1/sources/src-${run}`.toLowerCase(), admin, { active: false }))
        .status,
    ).toBe(200);
  });
});

describe('the read API with READ_API_REQUIRES_TOKEN', () => {
  it('answers no one without a token', async () => {
    for (const path of ['/v1/kpis', '/v1/kpis/series?kpi=MBB_SUB_P100&area=37', '/v1/kpi-changes'])
      expect([path, (await call('GET', path)).status]).toEqual([path, 401]);
  });

  it('shows a reader limited to a province that province only, in every read', async () => {
    const reader = tokens['warehouse-37']!.token;
    const kpis = (await call('GET', '/v1/kpis?period=2024-06', reader)).body.items as KpiEvent[];
    expect(new Set(kpis.map((e) => e.area))).toEqual(new Set(['37']));
    const everything = (await call('GET', '/v1/kpis?period=2024-06', tokens['ops-team']!.token))
      .body.items as KpiEvent[];
    expect(new Set(everything.map((e) => e.area))).toEqual(new Set(['01', '37']));
    expect((await call('GET', '/v1/kpis/series?kpi=MBB_SUB_P100&area=01', reader)).status).toBe(
      403,
    );
    const series = await call(
      'GET',
      '/v1/kpis/series?kpi=MBB_SUB_P100&area=37&areaSet=2008',
      reader,
    );
    // June and the quarter, half and year it rolls up into: one stock, 1,000 throughout.
    expect(series.body.items.map((e: KpiEvent) => [e.period, e.numerator])).toEqual([
      ['2024', 1_000],
      ['2024-H1', 1_000],
      ['2024-Q2', 1_000],
      ['2024-06', 1_000],
    ]);
    const changes = (await call('GET', '/v1/kpi-changes?limit=10000', reader)).body
      .items as KpiEvent[];
    expect(changes.length).toBeGreaterThan(0);
    expect(changes.every((e) => e.area === '37')).toBe(true);
  });
});

describe('a token', () => {
  it('stops working when it expires, when it is rotated, and when it is revoked', async () => {
    const soon = await issue('short-lived', {
      role: 'reader',
      expiresAt: new Date(Date.now() + 2_000).toISOString(),
    });
    expect((await call('GET', '/v1/kpis', tokens['short-lived']!.token)).status).toBe(200);
    await eventually(async () => {
      const r = await call('GET', '/v1/kpis', tokens['short-lived']!.token);
      return r.status === 401 ? r : undefined;
    }).then((r) => expect(r.body.message).toMatch(/has expired/));
    expect(soon.expiresAt).not.toBeNull();

    const old = tokens['ops-team']!;
    const rotated = await call('POST', `/v1/tokens/${old.id}/rotate`, ADMIN_TOKEN);
    expect(rotated.status).toBe(201);
    expect((await call('GET', '/v1/dlq', old.token)).status).toBe(401);
    expect((await call('GET', '/v1/dlq', rotated.body.token as string)).status).toBe(200);

    expect(
      (await call('DELETE', `/v1/tokens/${rotated.body.id as string}`, ADMIN_TOKEN)).status,
    ).toBe(200);
    const revoked = await call('GET', '/v1/dlq', rotated.body.token as string);
    expect([revoked.status, revoked.body.message]).toEqual([
      401,
      'token "ops-team" is revoked: ask an admin for a token',
    ]);
  });
});

describe('admin actions', () => {
  it('are on record with who, what, before and after, through the API and the CLI', async () => {
    const { items } = (await call('GET', '/v1/admin-actions?limit=1000', ADMIN_TOKEN)).body;
    const by = (action: string) => (items as any[]).filter((a) => a.action === action);
    expect(by('token.create').map((a) => [a.actor, a.after.name])).toEqual(
      expect.arrayContaining([
        ['ADMIN_TOKEN', 'warehouse-37'],
        ['ADMIN_TOKEN', 'admin-2'],
      ]),
    );
    const update = by('source.update')[0];
    expect(update).toMatchObject({
      actor: 'admin-2',
      target: `source:src-${run}`.toLowerCase(),
      before: { active: true },
      after: { active: false },
    });
    expect(by('source.create')[0]).toMatchObject({ actor: 'admin-2', before: null });
    expect(by('token.rotate')[0].before.revokedAt).toBeNull();
    expect(by('token.revoke')[0].after.revokedAt).not.toBeNull();
    expect(JSON.stringify(items)).not.toContain(tokens['admin-2']!.token);

    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['scripts/hub.mjs', 'actions', '--actor', 'admin-2'],
      {
        env: {
          ...process.env,
          HUB_API_URL: hub.url('api', ''),
          HUB_TOKEN: tokens['admin-2']!.token,
        },
      },
    );
    expect(stdout).toMatch(/source\.create/);
    expect(stdout).toMatch(/source\.update/);
    expect(stdout).not.toMatch(/token\.create/);
  });
});
