#!/usr/bin/env node
/**
 * `npm run bench [-- --provinces N] [-- --aggregators 2]`: the hub against the limit, in one
 * run, on this machine.
 *
 * Backfill: one year of monthly commune-level feeds (2008-era commune list) from 4 operators
 * and the statistics office: 5 counts, village coverage and BTS site sets per commune;
 * population, households and villages per commune. `--provinces N` takes the first N
 * provinces (default all 63: 10,051 communes, about 3.4 million observations).
 * Measures (a) end-to-end throughput, first feed produced to the last KPI event published,
 * with the CPU seconds of each process and the machine's steal meanwhile (a virtual machine's
 * cores waiting for the hypervisor: the same work then takes longer);
 * (b) the limit: a bare kafkajs consumer reading the same feeds doing only JSON.parse;
 * (b') the floor: that consumer again while a bare producer publishes the backfill's KPI events
 * (floor.mjs), the least any hub must do, which bounds a/b (`--floor-writers N`: N producer
 * threads, each with a share of the partitions; default 2, one per core here);
 * (c) freshness at a steady low load (p50/p99 feed produced -> KPI event consumed), and after a
 * restart of the aggregator, one feed per group while each group loads from PostgreSQL;
 * (d) peak RSS per service and the database size; (e) KPI events against keys and batch
 * windows (flushes). Then checks every KPI in the database against a recomputation from the
 * generated data with the reference arithmetic, and the latest event per key on lgsp.kpi.v1
 * against the database. Prints a table, writes bench/results-*.json. `--log-level debug` (the
 * services' LOG_LEVEL; default warn) logs why and when the aggregator publishes, into
 * .data/test/logs/bench-aggregator.log.
 */
import pg from 'pg';
import {
  AGGREGATORS,
  buildFeeds,
  cleanup,
  communeCount,
  dbUrl,
  fmt,
  provinces,
  say,
  started,
  startService,
  statusMb,
  topicEnds,
} from './lib/harness.mjs';
import { backfillPhase } from './phases/backfill.mjs';
import { floorPhase } from './phases/floor.mjs';
import { freshnessPhase } from './phases/freshness.mjs';
import { limitPhase } from './phases/limit.mjs';
import { report } from './phases/report.mjs';
import { restartPhase } from './phases/restart.mjs';
import { verifyPhase } from './phases/verify.mjs';

// Each phase is a module of phases/, in the order they run; lib/harness.mjs is the setup.
try {
  say(`generating feeds for ${provinces.length} province(s), ${fmt(communeCount)} communes...`);
  const feeds = buildFeeds();
  const observations = feeds.reduce((n, f) => n + f.observations.length, 0);
  say(`${fmt(feeds.length)} feeds, ${fmt(observations)} observations`);

  for (let i = 0; i < AGGREGATORS; i++)
    await startService('aggregator', 14002 + i * 10, AGGREGATORS > 1 ? `-${i + 1}` : '');
  await startService('relay', 14003);
  await startService('ingest', 14001);
  await startService('api', 14000);
  // What the services take before any feed: the floor under (d).
  const rssIdle = Object.fromEntries(
    started.services.map((s) => [s.name, statusMb(s.child.pid, 'VmRSS')]),
  );
  const db = new pg.Client(dbUrl);
  db.on('error', (e) => {
    if (!started.stopping) throw e;
  });
  await db.connect();
  const runStart = await topicEnds(['lgsp.feeds.v1', 'lgsp.kpi.v1']);

  const backfill = await backfillPhase({ feeds, observations, db, rssIdle });
  const limitRate = await limitPhase({ feeds, runStart });
  const fresh = await freshnessPhase({ producer: backfill.producer, db });
  const verify = await verifyPhase({
    db,
    feeds,
    steadyFeeds: fresh.steadyFeeds,
    runStart,
    t0: backfill.t0,
    backfillEnds: backfill.backfillEnds,
  });
  const floor = await floorPhase({ done: backfill.done, runStart, feeds, packs: verify.packs });
  const restart = await restartPhase();
  const { wrong, topicWrong } = report({
    feeds,
    observations,
    backfill,
    rssIdle,
    limitRate,
    floor,
    fresh,
    restart,
    verify,
  });
  process.exitCode = wrong || topicWrong ? 1 : 0;
} catch (e) {
  say(`failed: ${e?.stack ?? e}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
