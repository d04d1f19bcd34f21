#!/usr/bin/env node
/**
 * The hub's command line, over its HTTP API (HUB_API_URL, default http://127.0.0.1:3000).
 *
 *   npm run hub -- plans load [file]         load plans (default: the bundled seed plans); needs ADMIN_TOKEN
 *   npm run hub -- plans list [--area 37] [--kpi MBB_SUB_P100]
 *   npm run hub -- kpis [--area 37] [--areaSet 2008|2025] [--period 2023-H1] [--kpi MBB_SUB_P100] [--basis rebased]
 *   npm run hub -- sources list | show <id>
 *   npm run hub -- sources add <file.json> | update <id> <patch.json> | suspend <id> | activate <id>
 *   npm run hub -- sources mapping <id> <profile.json> | key create <id> [--label x]
 *   npm run hub -- sources key list <id> | key revoke <id> <keyId>
 *   npm run hub -- exchanges [--source viettel] [--from 2026-11-01T00:00:00Z] [--outcome rejected] [--feedId f]
 *   npm run hub -- dlq list [--source viettel] | show <id> | replay <id>
 *   npm run hub -- sources kafka-credential <id> | kafka-credential-remove <id>   (secured broker)
 *   npm run hub -- tokens create --name n --role admin|ops|reader [--provinces 37,38] [--expires-days 90]
 *   npm run hub -- tokens list | rotate <id> | revoke <id>
 *   npm run hub -- actions [--actor name] [--target source:itel] [--after id]
 *   npm run hub -- report 11 2024-H1 [--lang en] [--areaSet 2025] [--out reports]   HTML, PDF and CSV files
 *   npm run hub -- approvals [--area 11] [--period 2024-H1]
 *   npm run hub -- approval submit|approve|return|reopen 11 2024-Q1 [--reason "..."]   (an approver token)
 *
 * The token is HUB_TOKEN (a named token) or ADMIN_TOKEN: changes and tokens need an admin,
 * exchanges and dlq ops, approval an approver of the province, and kpis and reports a reader
 * where the api requires one.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

export const SEED_PLANS = fileURLToPath(new URL('../data/plans/seed-plans.json', import.meta.url));

/** Loads a plans file through the API; returns { loaded, warnings } or throws with the reasons. */
export async function loadPlans(apiUrl, token, file = SEED_PLANS) {
  const { plans } = JSON.parse(readFileSync(file, 'utf8'));
  const r = await fetch(`${apiUrl}/v1/plans`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token ?? ''}` },
    body: JSON.stringify({ plans }),
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) {
    const reasons = [body.message, ...(body.errors ?? [])].flat().filter(Boolean).join('\n  ');
    throw new Error(`HTTP ${r.status}: ${reasons}`);
  }
  return body;
}

/** The flags each command takes; any other is refused. */
const FLAGS = {
  plans: ['area', 'kpi'],
  kpis: ['area', 'areaSet', 'period', 'kpi', 'basis'],
  sources: ['label'],
  exchanges: ['source', 'from', 'to', 'outcome', 'feedId', 'after', 'limit'],
  dlq: ['source', 'after', 'limit'],
  tokens: ['name', 'role', 'provinces', 'expires-days'],
  actions: ['actor', 'target', 'after', 'limit'],
  report: ['lang', 'areaSet', 'out'],
  approvals: ['area', 'period', 'areaSet'],
  approval: ['reason'],
};

/** The command line, parsed with util.parseArgs: `{ _: positionals, ...flags }`. */
export function args(list) {
  const command = list.find((a) => !a.startsWith('-'));
  const names = [...(FLAGS[command] ?? []), 'help'];
  const options = Object.fromEntries(
    names.map((n) => [n, n === 'help' ? { type: 'boolean', short: 'h' } : { type: 'string' }]),
  );
  try {
    const { values, positionals } = parseArgs({ args: list, options, allowPositionals: true });
    return { _: positionals, ...values };
  } catch (e) {
    const takes = FLAGS[command]?.map((f) => `--${f}`).join(', ');
    throw new Error(
      `${e.message.split('.')[0]}. ${command ? `'${command}' takes ${takes || 'no flags'}` : 'See npm run hub -- --help'}.`,
    );
  }
}

function table(rows, columns) {
  const widths = columns.map((c) =>
    Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)),
  );
  const line = (cells) => cells.map((c, i) => String(c ?? '').padEnd(widths[i])).join('  ');
  console.log(line(columns));
  for (const r of rows) console.log(line(columns.map((c) => r[c])));
}

async function main() {
  const api = process.env.HUB_API_URL ?? 'http://127.0.0.1:3000';
  const a = args(process.argv.slice(2));
  const [what, verb] = a._;
  const query = (keys) =>
    new URLSearchParams(Object.fromEntries(keys.filter((k) => a[k]).map((k) => [k, a[k]])));
  const token = process.env.HUB_TOKEN ?? process.env.ADMIN_TOKEN;
  const get = async (path) => {
    const r = await fetch(`${api}${path}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    }).catch((e) => {
      throw new Error(
        `no answer from ${api} (${e.cause?.code ?? e.message}): is the hub running? (npm start)`,
      );
    });
    if (!r.ok) throw new Error(`HTTP ${r.status}: ${await r.text()}`);
    return r.json();
  };
  /** An admin call: the token from ADMIN_TOKEN, the API's reasons on failure. */
  const admin = async (method, path, body) => {
    if (!token)
      throw new Error(
        'set HUB_TOKEN to a named token, or ADMIN_TOKEN to the token the api was started with',
      );
    const r = await fetch(`${api}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    }).catch((e) => {
      throw new Error(
        `no answer from ${api} (${e.cause?.code ?? e.message}): is the hub running? (npm start)`,
      );
    });
    const json = await r.json().catch(() => ({}));
    if (!r.ok) {
      const reasons = [json.message, ...(json.errors ?? [])].flat().filter(Boolean).join('\n  ');
      throw new Error(`HTTP ${r.status}: ${reasons}`);
    }
    return json;
  };
  const readJson = (file) => {
    if (!file) throw new Error('give the path of a JSON file');
    return JSON.parse(readFileSync(resolve(file), 'utf8'));
  };
  const print = (o) => console.log(JSON.stringify(o, null, 2));
  const [, , id, extra] = a._;
  if (what === 'plans' && verb === 'load') {
    const file = a._[2] ? resolve(a._[2]) : SEED_PLANS;
    if (!token) throw new Error('set HUB_TOKEN (an admin token) or ADMIN_TOKEN');
    const r = await loadPlans(api, token, file);
    for (const w of r.warnings) console.warn(`warning: ${w}`);
    console.log(`loaded ${r.loaded} targets from ${file}`);
  } else if (what === 'plans' && verb === 'list') {
    const r = await get(`/v1/targets?${query(['area', 'kpi'])}`);
    table(r.items, [
      'area',
      'kpi',
      'targetPeriod',
      'targetValue',
      'comparison',
      'bs',
      'issuingBody',
    ]);
  } else if (what === 'kpis') {
    const r = await get(`/v1/kpis?${query(['area', 'areaSet', 'period', 'kpi', 'basis'])}`);
    table(
      r.items.map((e) => ({
        ...e,
        value: e.value?.toFixed(2),
        target: e.target?.target,
        attainment: e.target?.ratio == null ? '' : `${(e.target.ratio * 100).toFixed(1)} %`,
      })),
      [
        'areaSet',
        'area',
        'period',
        'kpi',
        'value',
        'unit',
        'status',
        'revision',
        'target',
        'attainment',
      ],
    );
  } else if (what === 'sources' && verb === 'list') {
    const r = await get('/v1/sources');
    table(
      r.items.map((s) => ({
        ...s,
        areas: s.areas === '*' ? '*' : s.areas.join(','),
        measures: s.measures.length,
        mapping: s.mapping ? 'yes' : '',
        late: s.late ? 'LATE' : '',
      })),
      ['id', 'kind', 'displayName', 'active', 'measures', 'areas', 'mapping', 'lastPeriod', 'late'],
    );
  } else if (what === 'sources' && verb === 'show') {
    print(await get(`/v1/sources/${encodeURIComponent(id ?? '')}`));
  } else if (what === 'sources' && verb === 'add') {
    print(await admin('POST', '/v1/sources', readJson(id)));
  } else if (what === 'sources' && verb === 'update') {
    print(await admin('PATCH', `/v1/sources/${encodeURIComponent(id)}`, readJson(extra)));
  } else if (what === 'sources' && (verb === 'suspend' || verb === 'activate')) {
    const r = await admin('PATCH', `/v1/sources/${encodeURIComponent(id)}`, {
      active: verb === 'activate',
    });
    console.log(`${r.id} is ${r.active ? 'active' : 'suspended'}`);
  } else if (what === 'sources' && verb === 'mapping') {
    print(await admin('PUT', `/v1/sources/${encodeURIComponent(id)}/mapping`, readJson(extra)));
  } else if (what === 'sources' && verb === 'key') {
    const [, , action, source, keyId] = a._;
    if (action === 'create') {
      const r = await admin('POST', `/v1/sources/${encodeURIComponent(source)}/keys`, {
        ...(a.label ? { label: a.label } : {}),
      });
      console.log(`API key for ${r.sourceId} (shown once, keep it secret):\n${r.key}`);
    } else if (action === 'list') {
      table((await admin('GET', `/v1/sources/${encodeURIComponent(source)}/keys`)).items, [
        'keyId',
        'label',
        'createdAt',
        'revokedAt',
      ]);
    } else if (action === 'revoke') {
      await admin('DELETE', `/v1/sources/${encodeURIComponent(source)}/keys/${keyId}`);
      console.log(`revoked ${keyId}`);
    } else throw new Error('sources key create|list|revoke <source> [keyId]');
  } else if (what === 'exchanges') {
    const r = await admin(
      'GET',
      `/v1/exchanges?${query(['source', 'from', 'to', 'outcome', 'feedId', 'after', 'limit'])}`,
    );
    table(
      r.items.map((e) => ({
        ...e,
        keys: e.kpiKeys.length,
        reason: e.errors?.[0] ? `${e.errors[0].code}: ${e.errors[0].message}`.slice(0, 80) : '',
      })),
      ['id', 'receivedAt', 'channel', 'source', 'feedId', 'sizeBytes', 'outcome', 'keys', 'reason'],
    );
    if (r.next) console.log(`more: --after ${r.next}`);
  } else if (what === 'dlq' && verb === 'list') {
    const r = await admin('GET', `/v1/dlq?${query(['source', 'after', 'limit'])}`);
    table(
      r.items.map((e) => ({
        ...e,
        errors: e.errors.length,
        first:
          `${e.errors[0]?.path ? `${e.errors[0].path}: ` : ''}${e.errors[0]?.message ?? ''}`.slice(
            0,
            80,
          ),
      })),
      ['id', 'rejectedAt', 'source', 'feedId', 'errorCode', 'errors', 'replays', 'first'],
    );
    if (r.next) console.log(`more: --after ${r.next}`);
  } else if (what === 'sources' && verb === 'kafka-credential') {
    print(await admin('POST', `/v1/sources/${encodeURIComponent(id ?? '')}/kafka-credential`));
  } else if (what === 'sources' && verb === 'kafka-credential-remove') {
    print(await admin('DELETE', `/v1/sources/${encodeURIComponent(id ?? '')}/kafka-credential`));
  } else if (what === 'tokens' && verb === 'create') {
    const r = await admin('POST', '/v1/tokens', {
      name: a.name,
      role: a.role,
      ...(a.provinces ? { provinces: a.provinces.split(',') } : {}),
      ...(a['expires-days'] ? { expiresInDays: Number(a['expires-days']) } : {}),
    });
    console.log(`token ${r.id} "${r.name}" (${r.role}), shown once, keep it secret:\n${r.token}`);
  } else if (what === 'tokens' && verb === 'list') {
    table(
      (await admin('GET', '/v1/tokens')).items.map((t) => ({
        ...t,
        provinces: t.provinces?.join(',') ?? '*',
      })),
      ['id', 'name', 'role', 'provinces', 'createdBy', 'expiresAt', 'revokedAt', 'lastUsedAt'],
    );
  } else if (what === 'tokens' && verb === 'rotate') {
    const r = await admin('POST', `/v1/tokens/${encodeURIComponent(id ?? '')}/rotate`);
    console.log(`token ${r.id} replaces ${id} (shown once):\n${r.token}`);
  } else if (what === 'tokens' && verb === 'revoke') {
    await admin('DELETE', `/v1/tokens/${encodeURIComponent(id ?? '')}`);
    console.log(`revoked token ${id}`);
  } else if (what === 'actions') {
    const r = await admin(
      'GET',
      `/v1/admin-actions?${query(['actor', 'target', 'after', 'limit'])}`,
    );
    table(
      r.items.map((x) => ({
        ...x,
        change: JSON.stringify({ before: x.before, after: x.after }).slice(0, 100),
      })),
      ['id', 'at', 'actor', 'action', 'target', 'change'],
    );
  } else if (what === 'report') {
    const [, area, period] = a._;
    if (!area || !period) throw new Error('report <province> <period>, e.g. report 11 2024-H1');
    const out = resolve(a.out ?? 'reports');
    mkdirSync(out, { recursive: true });
    const lang = a.lang ?? 'vi';
    const base = `report-${area}-${period}-${lang}`;
    const path = (format) =>
      `/v1/reports/${encodeURIComponent(area)}/${encodeURIComponent(period)}?${new URLSearchParams({ lang, format, ...(a.areaSet ? { areaSet: a.areaSet } : {}) })}`;
    for (const format of ['html', 'csv', 'pdf']) {
      const r = await fetch(`${api}${path(format)}`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      }).catch((e) => {
        throw new Error(
          `no answer from ${api} (${e.cause?.code ?? e.message}): is the hub running?`,
        );
      });
      if (!r.ok) {
        const why = await r.json().then(
          (b) => b.message,
          () => r.statusText,
        );
        if (format === 'pdf' && r.status === 503) {
          console.warn(`no PDF: ${why}`);
          continue;
        }
        throw new Error(`HTTP ${r.status}: ${why}`);
      }
      const file = join(out, `${base}.${format}`);
      writeFileSync(file, Buffer.from(await r.arrayBuffer()));
      console.log(`wrote ${file}`);
    }
  } else if (what === 'approvals') {
    const r = await get(`/v1/approvals?${query(['area', 'period', 'areaSet'])}`);
    table(r.items, ['areaSet', 'area', 'areaName', 'period', 'state', 'by', 'at', 'via', 'reason']);
  } else if (what === 'approval') {
    const [, action, area, period] = a._;
    if (!action || !area || !period)
      throw new Error('approval submit|approve|return|reopen <province> <period> [--reason "..."]');
    const r = await admin(
      'POST',
      `/v1/approvals/${encodeURIComponent(area)}/${encodeURIComponent(period)}/${encodeURIComponent(action)}`,
      a.reason ? { reason: a.reason } : {},
    );
    console.log(
      `${r.areaName} (${r.area}) ${r.periods.join(', ')}: ${r.approval.state} by ${r.approval.by}; ${r.events} KPI events published`,
    );
  } else if (what === 'dlq' && verb === 'show') {
    print(await admin('GET', `/v1/dlq/${encodeURIComponent(id ?? '')}`));
  } else if (what === 'dlq' && verb === 'replay') {
    console.log((await admin('POST', `/v1/dlq/${encodeURIComponent(id ?? '')}/replay`)).message);
  } else {
    if (what && !a.help) console.error(`error: unknown command '${a._.join(' ')}'\n`);
    console.log(
      readFileSync(fileURLToPath(import.meta.url), 'utf8')
        .split('\n')
        .slice(2)
        .filter((l, i, all) => i < all.indexOf(' */'))
        .map((l) => l.replace(/^ \*\s?/, ''))
        .join('\n'),
    );
    process.exitCode = what && !a.help ? 2 : 0;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(`error: ${e.message}`);
    process.exit(1);
  });
}
