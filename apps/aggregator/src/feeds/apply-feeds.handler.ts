import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  type AggregationContext,
  type KpiKey,
  MEASURES,
  affectedKeys,
  applicableTarget,
  areaKey,
  boundarySetOf,
  computeKpi,
  kpiChanged,
  kpiMeasures,
  KPIS,
  kpisReading,
  mustParsePeriod,
  ObservationSet,
  provincesRead,
} from '@app/catalogue';
import { type AcceptedFeed, HubError, kpiEventKey, TOPICS } from '@app/contract';
import {
  AggregateStore,
  AuditStore,
  RegistryStore,
  type FeedRow,
  type ObservationRow,
  type StoredKpi,
  identityOf,
  kpiKeyOf,
  DATA_SOURCE,
  TargetStore,
  toKpiEvent,
} from '@app/database';
import type { DataSource, QueryRunner } from 'typeorm';
import { AGGREGATION_CONTEXT } from '../aggregator.tokens.js';
import { nextRevision } from '../kpis/kpi-event.factory.js';

export interface ApplyResult {
  readonly feeds: number;
  readonly newFeeds: number;
  readonly duplicates: number;
  readonly observationsChanged: number;
  readonly keysRecomputed: number;
  readonly events: number;
}

/** Postgres errors worth another try: connection loss, serialisation, deadlock, shutdown. */
const TRANSIENT_SQLSTATE = /^(08|40|53|57P)/;

/**
 * Applies a batch of accepted feeds in one Postgres transaction: marks them processed,
 * upserts their observations (last writer by sentAt wins), recomputes the KPI keys they
 * moved and writes one outbox event per key that changed. Exactly once in effect: a feed
 * already marked processed is skipped, and marker, effects and events commit together.
 */
@Injectable()
export class ApplyFeedsHandler {
  private readonly log = new Logger(ApplyFeedsHandler.name);
  private readonly store = new AggregateStore();
  private readonly targets = new TargetStore();
  private readonly registry = new RegistryStore();
  private readonly audit = new AuditStore();

  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(AGGREGATION_CONTEXT) private readonly ctx: AggregationContext,
  ) {}

  async apply(feeds: readonly AcceptedFeed[]): Promise<ApplyResult> {
    const unique = new Map<string, AcceptedFeed>();
    for (const f of feeds) {
      const id = `${f.source}\u0000${f.feedId}`;
      if (!unique.has(id)) unique.set(id, f);
    }
    const q = this.ds.createQueryRunner();
    try {
      await q.connect();
      await q.startTransaction('READ COMMITTED');
      const result = await this.applyInTransaction(q, [...unique.values()], feeds);
      await q.commitTransaction();
      return result;
    } catch (e) {
      if (q.isTransactionActive) await q.rollbackTransaction().catch(() => undefined);
      throw classify(e);
    } finally {
      await q.release();
    }
  }

  private async applyInTransaction(
    q: QueryRunner,
    feeds: AcceptedFeed[],
    all: readonly AcceptedFeed[],
  ): Promise<ApplyResult> {
    const received = all.length;
    // Completeness follows the registry as it is now.
    const ctx: AggregationContext = { ...this.ctx, registry: await this.registry.load(q) };
    const { units } = ctx;
    const rowsByFeed = new Map<string, ObservationRow[]>();
    const lockNodes = new Set<string>();
    for (const f of feeds) {
      const p = mustParsePeriod(f.period);
      const bs = boundarySetOf(p);
      const rows: ObservationRow[] = [];
      for (const o of f.observations) {
        const province = units.get(bs, o.area)!.province;
        const provinceNode = areaKey(bs, province);
        lockNodes.add(provinceNode);
        const projected = bs === '2008' ? units.newProvinceOf(province) : undefined;
        if (projected) lockNodes.add(areaKey('2025', projected));
        rows.push({
          source: f.source,
          measure: o.measure,
          area: o.area,
          period: f.period,
          bs,
          provinceNode,
          year: p.year,
          value: o.value ?? null,
          items: o.items ?? null,
          qualifier: o.qualifier ?? null,
          status: f.status,
          feedId: f.feedId,
          sentAt: f.sentAt,
        });
      }
      rowsByFeed.set(`${f.source}\u0000${f.feedId}`, rows);
    }

    await this.store.lockProvinces(q, [...lockNodes]);
    const fresh = await this.store.insertFeeds(q, feeds.map(feedRow));

    // Within the batch, the last writer per identity wins before the database decides.
    const winners = new Map<string, ObservationRow>();
    for (const [id, rows] of rowsByFeed) {
      if (!fresh.has(id)) continue;
      for (const r of rows) {
        const k = identityOf(r);
        const w = winners.get(k);
        if (!w || w.sentAt < r.sentAt || (w.sentAt === r.sentAt && w.feedId < r.feedId))
          winners.set(k, r);
      }
    }
    const changed = await this.store.upsertObservations(q, [...winners.values()]);

    const keys = new Map<string, KpiKey>();
    const addKey = (k: KpiKey): void => void keys.set(kpiKeyOf(k), k);
    // For the audit log: the keys each feed's observations reach.
    const reachedBy = new Map<string, Set<string>>();
    const reaches = (c: ObservationRow, k: KpiKey): void => {
      const id = `${c.source}\u0000${c.feedId}`;
      let set = reachedBy.get(id);
      if (!set) reachedBy.set(id, (set = new Set()));
      set.add(kpiKeyOf(k));
    };
    const referenceFeeds = new Set<string>();
    const referenceKpis = new Set<string>();
    const referenceFrom = new Map<string, { bs: string; area: string; year: number }>();
    for (const c of changed) {
      for (const k of affectedKeys(c, units)) {
        addKey(k);
        reaches(c, k);
      }
      if (MEASURES[c.measure]!.time !== 'reference') continue;
      referenceFeeds.add(`${c.source}\u0000${c.feedId}`);
      for (const k of kpisReading(c.measure)) referenceKpis.add(k.code);
      const chain = units.selfAndAncestors(c.bs as '2008' | '2025', c.area).map((u) => u.code);
      const province = chain.at(-1);
      const projected = c.bs === '2008' && province ? units.newProvinceOf(province) : undefined;
      const nodes = [
        ...chain.map((area) => ({ bs: c.bs, area })),
        ...(projected ? [{ bs: '2025', area: projected }] : []),
      ];
      for (const n of nodes) {
        const id = `${n.bs}:${n.area}`;
        const prev = referenceFrom.get(id);
        if (!prev || prev.year > c.year) referenceFrom.set(id, { ...n, year: c.year });
      }
    }
    const fannedOut = await this.store.keysUsingReference(
      q,
      [...referenceKpis],
      [...referenceFrom.values()],
    );
    for (const k of fannedOut) addKey(k);

    const written = await this.recompute(q, [...keys.values()], ctx);
    const events = written.size;

    // The audit log: each exchange accepted with the keys it changed, or a duplicate.
    const decided = new Set<string>();
    const decisions = [];
    for (const f of all) {
      const exchangeId = f.origin.exchangeId;
      const id = `${f.source}\u0000${f.feedId}`;
      const first = fresh.has(id) && !decided.has(id);
      decided.add(id);
      if (!exchangeId) continue;
      const changedKeys = new Set([...(reachedBy.get(id) ?? [])].filter((k) => written.has(k)));
      if (first && referenceFeeds.has(id))
        for (const k of fannedOut) if (written.has(kpiKeyOf(k))) changedKeys.add(kpiKeyOf(k));
      decisions.push({
        exchangeId,
        outcome: first ? ('accepted' as const) : ('duplicate' as const),
        kpiKeys: first ? [...changedKeys].sort() : [],
      });
    }
    await this.audit.decide(q, decisions);
    return {
      feeds: received,
      newFeeds: fresh.size,
      duplicates: received - fresh.size,
      observationsChanged: changed.length,
      keysRecomputed: keys.size,
      events,
    };
  }

  /** Recomputes keys from the stored observations; writes and queues only what changed. */
  private async recompute(
    q: QueryRunner,
    keys: KpiKey[],
    ctx: AggregationContext,
  ): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const { units } = ctx;
    const nodes = new Set<string>();
    const measures = new Set<string>();
    for (const k of keys) {
      for (const n of provincesRead(k, units)) nodes.add(n);
      for (const m of kpiMeasures(KPIS[k.kpi]!)) measures.add(m);
    }
    const byNode = await this.store.loadObservations(q, [...nodes], [...measures]);
    const existing = await this.store.loadKpis(q, keys);
    const now = new Date();
    const writes: StoredKpi[] = [];
    const sets = new Map<string, ObservationSet>();
    for (const key of keys) {
      const read = provincesRead(key, units);
      const setKey = read.join(',');
      let set = sets.get(setKey);
      if (!set) {
        set = new ObservationSet(
          read.flatMap((n) => byNode.get(n) ?? []),
          units,
        );
        sets.set(setKey, set);
      }
      const computed = computeKpi(key, set, ctx);
      const prev = existing.get(kpiKeyOf(key));
      if (!kpiChanged(prev, computed)) continue;
      writes.push(nextRevision(key, computed, prev, units, now));
    }
    await this.store.writeKpis(q, writes);
    const targets = await this.targets.load(
      q,
      writes.map((w) => w.kpi),
      writes.map((w) => w.area),
    );
    await this.store.insertOutbox(
      q,
      writes.map((w) => ({
        topic: TOPICS.kpi,
        key: kpiEventKey(w),
        payload: JSON.stringify(toKpiEvent(w, applicableTarget(targets, w))),
      })),
    );
    return new Set(writes.map(kpiKeyOf));
  }
}

function feedRow(f: AcceptedFeed): FeedRow {
  return {
    source: f.source,
    feedId: f.feedId,
    sentAt: f.sentAt,
    period: f.period,
    status: f.status,
    observationCount: f.observations.length,
    receivedAt: f.receivedAt,
    origin: f.origin,
  };
}

function classify(e: unknown): HubError {
  if (e instanceof HubError) return e;
  const code = (e as { code?: unknown }).code;
  const message = e instanceof Error ? e.message : String(e);
  if (typeof code === 'string' && TRANSIENT_SQLSTATE.test(code))
    return new HubError('DB_TRANSIENT', `database: ${message}`, true, { cause: e });
  if (typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE)$/.test(code))
    return new HubError('DB_UNREACHABLE', `database unreachable: ${message}`, true, { cause: e });
  if (/Connection terminated|timeout/i.test(message))
    return new HubError('DB_UNREACHABLE', `database: ${message}`, true, { cause: e });
  return new HubError('APPLY_FAILED', message, false, { cause: e });
}
