#!/usr/bin/env node
/**
 * `npm start`: the hub's main job on its embedded defaults. Starts Kafka and PostgreSQL (or
 * uses KAFKA_BROKERS / DATABASE_URL), the four services, replays the demo feeds built from
 * the seed documents, prints the resulting KPI table and keeps serving the API until Ctrl-C,
 * which stops everything it started.
 */
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { randomBytes } from 'node:crypto';
import { DEMO_TABLE, REBASED_DEMO, REPORT_DEMOS, demoFeeds } from './demo/demo-feeds.mjs';
import { loadPlans, SEED_PLANS } from './hub.mjs';
import {
  fetchKafka,
  launcher,
  PROFILES,
  ROOT,
  startKafka,
  startPostgres,
  stopKafka,
} from './infra.mjs';
import * as secure from './kafka/secure.mjs';

// Local settings, if the user keeps them in a file (.env.example lists them all).
if (existsSync(join(ROOT, '.env'))) {
  if (!process.loadEnvFile) {
    console.error('.env is read by Node 20.12 or later: upgrade Node, or export its settings');
    process.exit(1);
  }
  process.loadEnvFile(join(ROOT, '.env'));
}

/**
 * `npm start -- --secure` (or LGSP_SECURE=1): the broker takes SASL_SSL only, with SCRAM and
 * ACLs, and each service, source and the demo connect as their own principal (issue 24).
 */
const SECURE = process.argv.includes('--secure') || process.env.LGSP_SECURE === '1';
const PROFILE = SECURE ? 'dev-secure' : 'dev';

const SERVICES = [
  ['aggregator', 'AGGREGATOR_PORT', 3002],
  ['relay', 'RELAY_PORT', 3003],
  ['ingest', 'INGEST_PORT', 3001],
  ['api', 'API_PORT', 3000],
];
// A closed terminal or pipe must not stop the shutdown half-way.
process.stdout.on('error', () => undefined);
const say = (m) => {
  try {
    process.stdout.write(`${m}\n`);
  } catch {
    /* output is gone; keep stopping */
  }
};
const step = (m) => say(`\x1b[1m▸ ${m}\x1b[0m`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const started = { kafka: false, pg: undefined, services: [] };
let stopping = false;

async function stopAll(code = 0) {
  if (stopping) return;
  stopping = true;
  say('\nstopping...');
  const began = Date.now();
  const took = () => `(${((Date.now() - began) / 1000).toFixed(1)} s)`;
  // In parallel: each service commits or leaves uncommitted what it holds, on its own. A child
  // that stopped by a signal (Nest re-raises it after a clean close) has no exit code.
  await Promise.all(
    started.services.map(async ({ name, child }) => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(15_000).then(() => child.kill('SIGKILL'))]);
      }
      say(`  ${name} stopped ${took()}`);
    }),
  );
  if (started.pg) {
    await started.pg.stop().catch((e) => say(`  PostgreSQL: ${e?.message ?? e}`));
    say(`  PostgreSQL stopped ${took()}`);
  }
  if (started.kafka) {
    await stopKafka(PROFILE).catch((e) => say(`  Kafka: ${e?.message ?? e}`));
    say(`  Kafka stopped ${took()}`);
  }
  process.exit(code);
}

async function waitHealthy(name, port, child, logFile) {
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`${name} exited (code ${child.exitCode}); see ${logFile}`);
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${name} not healthy after 90 s; see ${logFile}`);
    await sleep(250);
  }
}

async function main() {
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  process.on('SIGHUP', () => void stopAll(0));
  say(
    `LGSP digital-infrastructure hub — demo on embedded Kafka and PostgreSQL${SECURE ? ' (secure: SASL_SSL, SCRAM, ACLs)' : ''}\n`,
  );
  if (SECURE && process.env.KAFKA_BROKERS)
    throw new Error(
      "--secure starts the hub's own secured broker: unset KAFKA_BROKERS, or secure your broker as docs/secure-kafka.md says",
    );

  step('1/5 Kafka');
  let brokers = process.env.KAFKA_BROKERS;
  if (brokers) say(`  using KAFKA_BROKERS=${brokers}`);
  else {
    brokers = (await startKafka(PROFILE)).brokers;
    started.kafka = true;
  }

  step('2/5 PostgreSQL');
  let databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) say(`  using DATABASE_URL=${databaseUrl.replace(/:[^:@/]*@/, ':***@')}`);
  else {
    started.pg = await startPostgres(PROFILE);
    databaseUrl = started.pg.url;
  }

  // The admin API (loading plans) needs a token: one for this session unless one is given.
  const adminToken = process.env.ADMIN_TOKEN ?? randomBytes(24).toString('hex');

  step('3/5 services');
  const logDir = join(PROFILES[PROFILE].dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const { spawnService } = await launcher();
  for (const [name, portVar, port] of SERVICES) {
    const logFile = join(logDir, `${name}.log`);
    const log = createWriteStream(logFile, { flags: 'a' });
    const child = spawnService(name, {
      root: ROOT,
      env: {
        ...process.env,
        ...(SECURE ? secureEnv(name) : {}),
        KAFKA_BROKERS: brokers,
        DATABASE_URL: databaseUrl,
        ADMIN_TOKEN: adminToken,
        [portVar]: String(port),
      },
    });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    started.services.push({ name, child });
    const t = Date.now();
    await waitHealthy(name, process.env[portVar] ?? port, child, logFile);
    say(`  ${name} healthy in ${((Date.now() - t) / 1000).toFixed(1)} s (log ${logFile})`);
    child.once('exit', (code) => {
      if (!stopping) {
        say(`\n${name} exited unexpectedly (code ${code}); see ${logFile}`);
        void stopAll(1);
      }
    });
  }

  step('4/5 plans and demo feeds (Ninh Bình, Điện Biên, Ninh Thuận, from the seed documents)');
  const api = `http://127.0.0.1:${process.env.API_PORT ?? 3000}`;
  const plans = await loadPlans(api, adminToken, SEED_PLANS);
  say(`  loaded ${plans.loaded} plan targets (${SEED_PLANS.replace(ROOT + '/', '')})`);
  for (const w of plans.warnings) say(`  warning: ${w}`);
  const feeds = demoFeeds();
  if (SECURE) await sendAsEachSource(brokers, feeds);
  else {
    const kafka = new Kafka({
      clientId: 'lgsp-demo',
      brokers: brokers.split(','),
      logLevel: logLevel.WARN,
    });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({
      topic: 'lgsp.feeds.v1',
      acks: -1,
      messages: feeds.map((f) => ({ key: f.source, value: JSON.stringify(f) })),
    });
    await producer.disconnect();
  }
  const observations = feeds.reduce((n, f) => n + f.observations.length, 0);
  say(
    `  sent ${feeds.length} feeds, ${observations} observations to ${SECURE ? "each source's own topic, as that source (SASL_SSL)" : 'lgsp.feeds.v1'}`,
  );

  step('5/5 KPIs');
  const rows = await waitForTable(api, adminToken);
  printTable(rows);
  const bad = rows.filter((r) => !r.matches);
  say(
    bad.length === 0
      ? `\nAll ${rows.length} figures recomputed from their inputs match the golden values.`
      : `\n${bad.length} figure(s) differ from the golden values: see the table.`,
  );
  await printRebased(api, adminToken);
  await printReports(api, adminToken);
  say(`\nThe API serves on ${api}:`);
  say(`  curl '${api}/v1/kpis?area=37&period=2023-H1'`);
  say(
    `  curl '${api}/v1/kpis/series?kpi=MBB_SUB_P100&area=37&areaSet=2025&basis=rebased'   curl '${api}/v1/kpi-changes?after=0'`,
  );
  say(
    `  ${api}/docs (OpenAPI)   curl '${api}/health'   (ingest :3001/health, aggregator :3002/health, relay :3003/health)`,
  );
  say(`  ADMIN_TOKEN=${adminToken} npm run hub -- plans load <file>`);
  if (SECURE) {
    const dir = secure.secureDir(PROFILES[PROFILE].dir);
    say(
      `Secure broker on ${brokers}: SASL_SSL with SCRAM-SHA-512 only (a plaintext client gets nowhere).`,
    );
    say(
      `  CA: ${join(dir, 'ca.pem')}; the principals' passwords: ${join(dir, 'credentials.json')}`,
    );
    say(
      `  onboard an operator: ADMIN_TOKEN=${adminToken} npm run hub -- sources add op.json  (prints its Kafka credential once)`,
    );
    say(
      `  the read API needs a token: ADMIN_TOKEN=${adminToken} npm run hub -- tokens create --name me --role reader`,
    );
    say(
      'Feeds sent by a source to lgsp.feeds.v1.<source> are processed live. Ctrl-C stops everything.',
    );
  } else
    say(
      'Feeds sent to lgsp.feeds.v1 on ' + brokers + ' are processed live. Ctrl-C stops everything.',
    );
}

/** A service's own principal on the secure broker; the api also manages sources' credentials. */
function secureEnv(name) {
  return {
    ...secure.serviceEnv(PROFILES[PROFILE].dir, name),
    ...(name === 'api'
      ? { KAFKA_TOOLS_CLASSPATH: join(fetchKafka(), '*'), READ_API_REQUIRES_TOKEN: 'true' }
      : {}),
  };
}

/** The demo's feeds, each sent by its source's principal to the source's own topic. */
async function sendAsEachSource(brokers, feeds) {
  const dir = PROFILES[PROFILE].dir;
  const { users } = secure.credentials(dir);
  const ca = readFileSync(join(secure.secureDir(dir), 'ca.pem'), 'utf8');
  for (const source of [...new Set(feeds.map((f) => f.source))]) {
    const kafka = new Kafka({
      clientId: `lgsp-demo-${source}`,
      brokers: brokers.split(','),
      logLevel: logLevel.WARN,
      ssl: { ca: [ca] },
      sasl: { mechanism: 'scram-sha-512', username: source, password: users[source] },
    });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({
      topic: `lgsp.feeds.v1.${source}`,
      acks: -1,
      messages: feeds
        .filter((f) => f.source === source)
        .map((f) => ({ key: f.source, value: JSON.stringify(f) })),
    });
    await producer.disconnect();
  }
}

/**
 * One re-based figure next to its old units: today's Ninh Bình over 2023-H1 (contract v1.1,
 * lgsp.kpi.rebased.v1), and the three old provinces it sums.
 */
async function printRebased(api, token) {
  const { kpi, area, period, from } = REBASED_DEMO;
  const get = (q) =>
    fetch(`${api}/v1/kpis?kpi=${kpi}&period=${period}&${q}`, {
      headers: { authorization: `Bearer ${token}` },
    })
      .then((r) => r.json())
      .then((r) => r.items?.[0])
      .catch(() => undefined);
  const deadline = Date.now() + 30_000;
  let rebased;
  while (!(rebased = await get(`area=${area}&basis=rebased`)) && Date.now() < deadline)
    await sleep(500);
  const olds = await Promise.all(from.map((a) => get(`area=${a}&areaSet=2008`)));
  const n = (v) => (v === null || v === undefined ? '—' : Math.round(v).toLocaleString('en'));
  const v = (e) => (e?.value === null || e?.value === undefined ? '—' : e.value.toFixed(2));
  say(`\nAcross the 2025 reorganisation: ${kpi}, ${period} (35 and 36 are illustrative figures)`);
  const line = (name, unit, e) =>
    say(
      `  ${name.padEnd(10)} ${unit.padEnd(26)} ${v(e).padStart(6)}   ${n(e?.numerator).padStart(9)} / ${n(e?.denominator)}`,
    );
  for (const [i, e] of olds.entries()) line(e?.areaName ?? '?', `old, 2008 lists, ${from[i]}`, e);
  if (rebased) {
    line(rebased.areaName, `2025 lists, ${area}, re-based`, rebased);
    const average = olds.reduce((s, e) => s + (e?.value ?? 0), 0) / olds.length;
    say(
      `  (the old provinces summed, the ratio recomputed: not ${average.toFixed(2)}, their average)`,
    );
  } else say('  the re-based figure has not arrived yet: see GET /v1/kpis?basis=rebased');
  say(`  ${api}/dashboard?area=37 shows today's Ninh Bình across the reform`);
}

/**
 * Where to open the provincial reports (issue 27) of the two seed reports the demo follows,
 * and which of the seeds' own figures each reproduces, or why not.
 */
async function printReports(api, token) {
  say('\nProvincial reports (Vietnamese; &lang=en for English; ?format=pdf or ?format=csv):');
  for (const { area, period, seed } of REPORT_DEMOS) {
    const url = `${api}/v1/reports/${area}/${period}`;
    const report = await fetch(`${url}?format=json`, {
      headers: { authorization: `Bearer ${token}` },
    })
      .then((r) => (r.ok ? r.json() : undefined))
      .catch(() => undefined);
    say(`  ${report?.areaName ?? area} ${period}: ${url}   (seed: "${seed}")`);
    if (!report) continue;
    for (const row of DEMO_TABLE.filter((r) => r.area === area && r.period === period)) {
      const i = report.indicators.find((x) => x.kpi === row.kpi);
      const value =
        i?.value === null || i?.value === undefined
          ? '—'
          : row.kpi === 'TELECOM_REVENUE'
            ? `${(i.value / 1e9).toFixed(1)} bn`
            : i.value.toFixed(2);
      say(
        `    ${row.kpi.padEnd(16)} ${value.padStart(9)}  seed: ${row.published}${row.why ? `  (${row.why})` : ''}`,
      );
    }
  }
  say(
    `  approve a period: ADMIN_TOKEN=${token} npm run hub -- tokens create --name me --role approver --provinces 11, then the dashboard`,
  );
  say(`  or write them to files: npm run hub -- report 11 2024-H1 (HUB_TOKEN or ADMIN_TOKEN)`);
}

async function waitForTable(api, token) {
  const deadline = Date.now() + 120_000;
  let last = [];
  for (;;) {
    last = await Promise.all(
      DEMO_TABLE.map(async (row) => {
        const r = await fetch(
          `${api}/v1/kpis?area=${row.area}&period=${row.period}&kpi=${row.kpi}`,
          {
            headers: { authorization: `Bearer ${token}` },
          },
        )
          .then((x) => x.json())
          .catch(() => ({ items: [] }));
        const kpi = r.items?.[0];
        const value = kpi?.value ?? null;
        const matches =
          value !== null &&
          Math.abs(value - row.expected) < 0.005 * Math.max(1, Math.abs(row.expected) / 100);
        return { ...row, kpi, value, matches };
      }),
    );
    if (last.every((r) => r.matches)) return last;
    if (Date.now() > deadline) return last;
    process.stdout.write(
      `  waiting for KPIs: ${last.filter((r) => r.matches).length}/${last.length}\r`,
    );
    await sleep(500);
  }
}

function printTable(rows) {
  const fmt = (v, unit) =>
    v === null || v === undefined
      ? '—'
      : unit === 'vnd'
        ? `${(v / 1e9).toFixed(1)} bn`
        : v.toFixed(2);
  const header = [
    'area',
    'period',
    'KPI',
    'value',
    'unit',
    'status',
    'rev',
    'published',
    'target',
    'note',
  ];
  const table = rows.map((r) => [
    `${r.area} ${r.kpi?.areaName ?? ''}`,
    r.period,
    r.kpi?.kpi ?? r.kpi,
    fmt(r.value, r.kpi?.unit),
    r.kpi?.unit ?? '',
    r.kpi?.status ?? 'missing',
    String(r.kpi?.revision ?? ''),
    r.published,
    r.kpi?.target
      ? `${r.kpi.target.target} by ${r.kpi.target.targetPeriod}: ${r.kpi.target.met ? 'met' : `${(r.kpi.target.ratio * 100).toFixed(0)} %`}`
      : '',
    `${r.matches ? '✓' : '✗'} ${r.kpi?.note ?? ''}`.trim(),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  say('');
  say(line(header));
  say(widths.map((w) => '─'.repeat(w)).join('  '));
  for (const row of table) say(line(row));
}

main().catch((e) => {
  say(`\nerror: ${e.message}`);
  void stopAll(1);
});
