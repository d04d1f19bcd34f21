import { GroupFlush, LEVEL } from '@app/aggregation';
import { applicableTarget, KPIS, type SourceRegistry } from '@app/catalogue';
import {
  type ApprovalRow,
  ApprovalStore,
  approvalKey,
  approvalOf,
  AuditStore,
  classify,
  type ChangeLogWriter,
  type CopyClient,
  DATA_SOURCE,
  type GroupVersion,
  KpiStore,
  officialKey,
  OutboxStore,
  SliceStore,
  TargetStore,
} from '@app/database';
import {
  type Approval,
  type KpiFigure,
  type KpiRevision,
  NO_OFFICIAL_FIGURE,
  serializeKpiEvent,
  toKpiEvent,
  withApproval,
} from '@app/contract';
import type { AdminUnits, PlanTarget } from '@app/catalogue';
import { METRICS } from '@app/service';
import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, QueryRunner } from 'typeorm';
import { AGGREGATOR_CONTEXT, type AggregatorContext } from '../aggregator.tokens.js';
import { GroupCache } from '../groups/group-cache.service.js';
import { storedRevision } from './kpi-event.factory.js';

export interface PublishResult {
  readonly group: string;
  readonly evaluated: number;
  readonly events: number;
  /** Where the time went, ms: evaluating keys, building events, waiting for their writes. */
  readonly ms?: {
    readonly compute: number;
    readonly events: number;
    readonly write: number;
    /** From the transaction's start to its commit. */
    readonly total: number;
  };
}

/** Keys evaluated per round between heartbeats. */
const CHUNK = 500;

export interface PublishOptions {
  /** Called between rounds of keys. */
  readonly heartbeat?: () => Promise<void>;
}

/**
 * Publishes one group's changed KPI keys, in one Postgres transaction under the group's row
 * lock: each changed key's next revision, with its event, goes to the change log
 * (`kpi_change`, which is also the outbox; the `kpi_value` view reads its latest revision per
 * key) tagged with this flush, so a key gets at most one event per flush;
 * the audit log learns which keys each exchange changed; the group's published sequence
 * catches up with its applied one; the relay (its own service) is notified on commit. Only
 * after the commit does the in-memory state record the keys as published.
 */
@Injectable()
export class PublishKpisHandler {
  private readonly slices = new SliceStore();
  private readonly kpis = new KpiStore();
  private readonly targets = new TargetStore();
  private readonly audit = new AuditStore();
  private readonly outbox = new OutboxStore();
  private readonly approvals = new ApprovalStore();
  private readonly approvalsOf = new Map<
    string,
    { readonly seq: number; readonly held: HeldApprovals | undefined }
  >();

  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(AGGREGATOR_CONTEXT) private readonly ctx: AggregatorContext,
    private readonly cache: GroupCache,
  ) {}

  /**
   * The approvals of a group's provinces, read again only when a move changed them (every
   * move bumps the group's approval sequence); undefined when there are none.
   */
  private async heldApprovals(
    q: QueryRunner,
    group: string,
    seq: number,
  ): Promise<HeldApprovals | undefined> {
    const known = this.approvalsOf.get(group);
    if (known?.seq === seq) return known.held;
    const rows = await this.approvals.forGroup(q, group);
    const held = rows.length > 0 ? new HeldApprovals(rows, this.ctx.units) : undefined;
    this.approvalsOf.set(group, { seq, held });
    return held;
  }

  async publish(
    group: string,
    registry: SourceRegistry,
    { heartbeat }: PublishOptions = {},
  ): Promise<PublishResult> {
    const began = process.hrtime.bigint();
    const q = this.ds.createQueryRunner();
    let flush: GroupFlush | undefined;
    let writer: ChangeLogWriter | undefined;
    let applied = 0;
    let version: GroupVersion | undefined;
    const ms = { compute: 0, events: 0, write: 0, total: 0 };
    try {
      const client = (await q.connect()) as CopyClient;
      await q.startTransaction('READ COMMITTED');
      const v = (await this.slices.lockGroups(q, [group])).get(group);
      if (!v) throw new Error(`aggregation group ${group} is not registered`);
      applied = v.applied;
      version = v;
      const state = await this.cache.current(q, group, v);
      if (!state.isDirty) {
        if (v.published !== v.applied) await this.slices.setPublished(q, group, v.applied);
        await q.commitTransaction();
        this.cache.setVersion(group, { ...v, published: v.applied });
        return { group, evaluated: 0, events: 0 };
      }
      flush = new GroupFlush(state, { registry });
      const now = new Date();
      const g = state.layout;
      const targets = await this.targets.load(q, Object.keys(KPIS), [
        ...g.u2008.codes.filter((_, i) => g.u2008.level[i] !== LEVEL.virtual),
        ...g.u2025.codes,
      ]);
      const held = await this.heldApprovals(q, group, v.approvals);
      // Each event is encoded for COPY as soon as it is built; PostgreSQL takes one buffer
      // while the next fills.
      const chunks = flush.chunks(CHUNK);
      for (;;) {
        let t = performance.now();
        const next = chunks.next();
        ms.compute += performance.now() - t;
        if (next.done) break;
        const changes = next.value;
        t = performance.now();
        const revisions = changes.map((c) => storedRevision(c, this.ctx.units, now));
        // Official figures of the keys under an approved period, if any: through the pool,
        // since the COPY may hold this transaction's connection. No move can commit
        // meanwhile: moves take the group's lock, which this transaction holds.
        const official = held ? await held.officialFigures(this.ds, revisions) : undefined;
        writer ??= await this.kpis.openChangeLog(q, client);
        for (const r of revisions) {
          const target = targets.length ? applicableTarget(targets, r) : undefined;
          const under = r.rebasedFrom ? undefined : held?.of(r, official);
          const full = writer.add(
            r.kpi,
            r.area,
            r.period,
            r.revision,
            under ? under.payload(r, target) : serializeKpiEvent(r, target),
            !!r.rebasedFrom,
            under?.approval.state === 'approved',
          );
          if (full) {
            ms.events += performance.now() - t;
            t = performance.now();
            await full;
            ms.write += performance.now() - t;
            t = performance.now();
          }
        }
        ms.events += performance.now() - t;
        await heartbeat?.();
      }
      const t = performance.now();
      await writer?.end();
      ms.write += performance.now() - t;
      const attribution = flush.attribution();
      await this.audit.addKpiKeys(
        q,
        [...attribution].map(([exchangeId, a]) => ({ exchangeId, count: a.count, keys: a.keys })),
      );
      await this.slices.setPublished(q, group, v.applied);
      if (flush.changes > 0) await this.outbox.notify(q);
      await q.commitTransaction();
      ms.total = Number(process.hrtime.bigint() - began) / 1e6;
    } catch (e) {
      if (q.isTransactionActive) await q.rollbackTransaction().catch(() => undefined);
      throw classify(e);
    } finally {
      await q.release();
    }
    flush.commit();
    this.cache.setVersion(group, { ...version, applied, published: applied });
    METRICS.kpiEventsWritten.inc(flush.changes);
    METRICS.kpiFlushDuration.observe(Number(process.hrtime.bigint() - began) / 1e9);
    return {
      group,
      evaluated: flush.evaluated,
      events: flush.changes,
      ms,
    };
  }
}

/**
 * The approvals of a group's provinces: a key under one gets an event that says so; under an
 * approved one, with its official figure and the computation pending.
 */
class HeldApprovals {
  private readonly byKey: Map<string, Approval>;
  private readonly store = new ApprovalStore();

  constructor(
    rows: readonly ApprovalRow[],
    private readonly units: AdminUnits,
  ) {
    this.byKey = new Map(rows.map((a) => [approvalKey(a.bs, a.area, a.period), approvalOf(a)]));
  }

  private approvalOf(r: KpiRevision): Approval | undefined {
    if (r.rebasedFrom) return undefined;
    const province = this.units.get(r.bs, r.area)?.province;
    return province ? this.byKey.get(approvalKey(r.bs, province, r.period)) : undefined;
  }

  /** The official figures of those revisions' keys that are under an approved period. */
  async officialFigures(
    db: DataSource,
    revisions: readonly KpiRevision[],
  ): Promise<Map<string, KpiFigure> | undefined> {
    const keys = revisions.filter((r) => this.approvalOf(r)?.state === 'approved');
    return keys.length > 0 ? this.store.officialFigures(db, keys) : undefined;
  }

  of(
    r: KpiRevision,
    official: Map<string, KpiFigure> | undefined,
  ): { approval: Approval; payload: Payload } | undefined {
    const approval = this.approvalOf(r);
    if (!approval) return undefined;
    const figure: KpiFigure | undefined =
      approval.state === 'approved'
        ? (official?.get(officialKey(r.bs, r.area, r.period, r.kpi)) ?? NO_OFFICIAL_FIGURE)
        : undefined;
    return {
      approval,
      payload: (row, target) =>
        JSON.stringify(withApproval(toKpiEvent(row, target), approval, figure)),
    };
  }
}

type Payload = (row: KpiRevision, target: PlanTarget | undefined) => string;
