/** (a) The backfill, end to end: first feed produced to the last KPI event published. */
import { cpus } from 'node:os';
import { Partitioners } from 'kafkajs';
import {
  cpuNow,
  fmt,
  kafka,
  logDir,
  peakRssMb,
  progress,
  say,
  sleep,
  started,
  statusMb,
  TIMEOUT_S,
  topicEnds,
} from '../lib/harness.mjs';

export async function backfillPhase({ feeds, observations, db, rssIdle }) {
  const expectedSlices = feeds.length;
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const cpu0 = cpuNow();
  const t0 = Date.now();
  for (let i = 0; i < feeds.length; i += 50) {
    await producer.send({
      topic: 'lgsp.feeds.v1',
      messages: feeds.slice(i, i + 50).map((f) => ({ key: f.source, value: JSON.stringify(f) })),
    });
    progress(`produced ${Math.min(i + 50, feeds.length)}/${feeds.length} feeds`);
  }
  const tProduced = Date.now();
  say(`produced in ${((tProduced - t0) / 1000).toFixed(1)} s`);
  let done;
  const timeline = [];
  let cpuBefore = cpu0;
  let tBefore = t0;
  for (;;) {
    const {
      rows: [s],
    } = await db.query(
      `SELECT (SELECT count(*)::int FROM feed_slice) AS slices,
              (SELECT count(*)::int FROM aggregation_group WHERE applied_seq > published_seq) AS unpublished,
              (SELECT coalesce(max(id), 0)::text FROM kpi_change) AS written,
              (SELECT last_id::text FROM relay_position WHERE topic = 'lgsp.kpi.v1') AS relayed,
              (SELECT updated_at FROM relay_position WHERE topic = 'lgsp.kpi.v1') AS relayed_at`,
    );
    const elapsed = (Date.now() - t0) / 1000;
    const applied = Math.min(1, s.slices / expectedSlices);
    // Cores each process used since the previous sample (1.0 = one core all the time).
    const cpuAt = cpuNow();
    const cores = Object.fromEntries(
      Object.keys(cpuAt).map((k) => [
        k,
        Math.round(((cpuAt[k] - (cpuBefore[k] ?? 0)) / ((Date.now() - tBefore) / 1000)) * 100) /
          100,
      ]),
    );
    cpuBefore = cpuAt;
    tBefore = Date.now();
    timeline.push({
      s: Math.round(elapsed * 10) / 10,
      slices: s.slices,
      eventsWritten: Number(s.written),
      eventsPublished: Number(s.relayed ?? 0),
      cores,
      rssMb: Object.fromEntries(
        started.services.map((x) => [x.name, statusMb(x.child.pid, 'VmRSS')]),
      ),
    });
    progress(
      `${elapsed.toFixed(0)} s: feeds applied ${s.slices}/${expectedSlices} (${fmt((observations * applied) / elapsed)} obs/s), ` +
        `groups unpublished ${s.unpublished}, KPI events written ${fmt(Number(s.written))}, published ${fmt(Number(s.relayed ?? 0))}`,
    );
    if (s.slices >= expectedSlices && s.unpublished === 0 && s.relayed === s.written) {
      done = s;
      break;
    }
    if (elapsed > TIMEOUT_S)
      throw new Error(
        `backfill not done after ${elapsed.toFixed(0)} s (${s.slices}/${expectedSlices} slices, ${s.unpublished} groups unpublished, ${s.relayed}/${s.written} events published); service logs in ${logDir}`,
      );
    await sleep(1_000);
  }
  const backfillSeconds = (new Date(done.relayed_at).getTime() - t0) / 1000;
  // Every event of the backfill is on lgsp.kpi.v1 now (relayed = written): the floor replays them.
  const backfillEnds = await topicEnds(['lgsp.kpi.v1']);
  const cpu1 = cpuNow();
  const cpuWindow = (Date.now() - t0) / 1000;
  const cpu = Object.fromEntries(
    Object.keys(cpu1).map((k) => [k, Math.round((cpu1[k] - (cpu0[k] ?? 0)) * 10) / 10]),
  );
  const { idle, steal, ...processes } = cpu;
  say(
    `CPU seconds during the backfill: ${Object.entries(processes)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}` +
      (steal !== undefined
        ? `; the machine's ${cpus().length} cores, of ${(cpus().length * cpuWindow).toFixed(1)}: idle ${idle}, taken by the hypervisor (steal) ${steal}`
        : ''),
  );
  const e2eRate = observations / backfillSeconds;
  say(
    `backfill: ${backfillSeconds.toFixed(1)} s, ${fmt(e2eRate)} obs/s, ${fmt(Number(done.written))} KPI events`,
  );
  // What each aggregator's held state takes in typed arrays (its /health, kpis.stateMb).
  const stateMb = {};
  for (const a of started.services.filter((x) => x.name.startsWith('aggregator'))) {
    const h = await fetch(`http://127.0.0.1:${a.port}/health`).then(
      (r) => r.json(),
      () => undefined,
    );
    stateMb[a.name] = h?.checks?.kpis?.detail?.stateMb ?? null;
  }
  for (const [name, mb] of Object.entries(stateMb))
    if (mb)
      say(
        `${name} memory: ${rssIdle[name]} MB RSS before any feed; state held ${mb.total} MB ` +
          `(observations ${mb.observations}, item sets ${mb.itemSets}, published keys ${mb.published}, ` +
          `dirty marks ${mb.dirty}, pending cells ${mb.pending})`,
      );
  const rssBackfill = Object.fromEntries(
    started.services.map((s) => [s.name, peakRssMb(s.child.pid)]),
  );
  return {
    producer,
    t0,
    tProduced,
    timeline,
    done,
    backfillSeconds,
    backfillEnds,
    cpu,
    cpuWindow,
    idle,
    steal,
    e2eRate,
    stateMb,
    rssBackfill,
  };
}
