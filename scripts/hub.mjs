#!/usr/bin/env node
/**
 * The hub's command line, over its HTTP API (HUB_API_URL, default http://127.0.0.1:3000).
 *
 *   npm run hub -- plans load [file]         load plans (default: the bundled seed plans); needs ADMIN_TOKEN
 *   npm run hub -- plans list [--area 37] [--kpi MBB_SUB_P100]
 *   npm run hub -- kpis [--area 37] [--period 2023-H1] [--kpi MBB_SUB_P100]
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
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

function args(list) {
  const out = { _: [] };
  for (let i = 0; i < list.length; i++) {
    if (list[i].startsWith('--')) out[list[i].slice(2)] = list[++i];
    else out._.push(list[i]);
  }
  return out;
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
  const get = async (path) => {
    const r = await fetch(`${api}${path}`).catch((e) => {
      throw new Error(
        `no answer from ${api} (${e.cause?.code ?? e.message}): is the hub running? (npm start)`,
      );
    });
    if (!r.ok) throw new Error(`HTTP ${r.status}: ${await r.text()}`);
    return r.json();
  };
  if (what === 'plans' && verb === 'load') {
    const file = a._[2] ? resolve(a._[2]) : SEED_PLANS;
    if (!process.env.ADMIN_TOKEN)
      throw new Error('set ADMIN_TOKEN to the token the api was started with');
    const r = await loadPlans(api, process.env.ADMIN_TOKEN, file);
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
    const r = await get(`/v1/kpis?${query(['area', 'period', 'kpi'])}`);
    table(
      r.items.map((e) => ({
        ...e,
        value: e.value?.toFixed(2),
        target: e.target?.target,
        attainment: e.target?.ratio == null ? '' : `${(e.target.ratio * 100).toFixed(1)} %`,
      })),
      ['area', 'period', 'kpi', 'value', 'unit', 'status', 'revision', 'target', 'attainment'],
    );
  } else {
    console.log(
      readFileSync(fileURLToPath(import.meta.url), 'utf8')
        .split('\n')
        .slice(2, 8)
        .map((l) => l.replace(/^ \*\s?/, ''))
        .join('\n'),
    );
    process.exitCode = what ? 2 : 0;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(`error: ${e.message}`);
    process.exit(1);
  });
}
