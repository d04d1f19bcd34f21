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
  type OfficialRow,
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
import type { DataSource } from 'typeorm';
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

  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(AGGREGATOR_CONTEXT) private readonly ctx: AggregatorContext,
    private readonly cache: GroupCache,
  ) {}

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
      // Read before the COPY takes the connection. Only a group with approvals pays.
      const approvals = await this.approvals.forGroup(q, group);
      const held =
        approvals.length > 0
          ? new HeldApprovals(
              approvals,
              approvals.some((a) => a.state === 'approved')
                ? await this.approvals.officialFigures(q, group)
                : new Map(),
              this.ctx.units,
            )
          : undefined;
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
        writer ??= await this.kpis.openChangeLog(q, client);
        for (const c of changes) {
          const r = storedRevision(c, this.ctx.units, now);
          const target = targets.length ? applicableTarget(targets, r) : undefined;
          const under = r.rebasedFrom ? undefined : held?.of(r);
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
 * The approvals of a group's provinces, and the figures approved ones made official: a key
 * under one gets an event that says so, with the official figure and the computation pending.
 */
class HeldApprovals {
  private readonly byKey: Map<string, Approval>;

  constructor(
    rows: readonly ApprovalRow[],
    private readonly official: Map<string, OfficialRow>,
    private readonly units: AdminUnits,
  ) {
    this.byKey = new Map(rows.map((a) => [approvalKey(a.bs, a.area, a.period), approvalOf(a)]));
  }

  of(r: KpiRevision): { approval: Approval; payload: Payload } | undefined {
    const province = this.units.get(r.bs, r.area)?.province;
    const approval = province && this.byKey.get(approvalKey(r.bs, province, r.period));
    if (!approval) return undefined;
    const official: KpiFigure | undefined =
      approval.state === 'approved'
        ? (this.official.get(officialKey(r.bs, r.area, r.period, r.kpi))?.figure ??
          NO_OFFICIAL_FIGURE)
        : undefined;
    return {
      approval,
      payload: (row, target) =>
        JSON.stringify(withApproval(toKpiEvent(row, target), approval, official)),
    };
  }
}

type Payload = (row: KpiRevision, target: PlanTarget | undefined) => string;
