import type { GroupState } from '@app/aggregation';
import { type FeedSlice, sliceInput } from '@app/contract';
import {
  type GroupVersion,
  AuditStore,
  classify,
  DATA_SOURCE,
  SliceStore,
  type SliceRow,
  sliceId,
} from '@app/database';
import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { GroupCache } from '../groups/group-cache.service.js';

export interface ApplyResult {
  readonly slices: number;
  readonly fresh: number;
  readonly duplicates: number;
  readonly observations: number;
  /** Observations that won their cell (a late older correction wins none). */
  readonly cellsChanged: number;
}

/** One slice record, and its bytes as they are stored. */
export interface SliceRecord {
  readonly slice: FeedSlice;
  readonly payload: string;
}

/**
 * Applies a batch of feed slices: in one Postgres transaction, under the row locks of their
 * groups, stores the slices not seen before (the "already processed" marker and the state
 * in one row) and advances each group's applied sequence; after the commit, applies them to
 * the groups in memory, which marks the KPI keys they move dirty. Publishing those keys is
 * the next step (PublishKpisHandler): a crash in between loses nothing, as a group's slices
 * after its published sequence are replayed dirty when it is loaded again.
 */
@Injectable()
export class ApplySlicesHandler {
  private readonly store = new SliceStore();
  private readonly audit = new AuditStore();

  /** Since start: what the health check reports. */
  readonly counters = { slices: 0, duplicates: 0, observations: 0, quarantined: 0 };

  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    private readonly cache: GroupCache,
  ) {}

  async apply(records: readonly SliceRecord[]): Promise<ApplyResult> {
    const unique = new Map<string, SliceRecord>();
    for (const r of records) if (!unique.has(sliceId(r.slice))) unique.set(sliceId(r.slice), r);
    const groups = [...new Set([...unique.values()].map((r) => r.slice.group))].sort();
    const q = this.ds.createQueryRunner();
    let fresh: SliceRecord[] = [];
    const applied = new Map<string, number>();
    const held = new Map<string, GroupVersion>();
    const states = new Map<string, GroupState>();
    try {
      await q.connect();
      await q.startTransaction('READ COMMITTED');
      const versions = await this.store.lockGroups(q, groups);
      const next = new Map<string, number>();
      for (const g of groups) {
        const v = versions.get(g);
        if (!v) throw new Error(`aggregation group ${g} is not registered`);
        states.set(g, await this.cache.current(q, g, v));
        next.set(g, v.applied);
        held.set(g, v);
      }
      const rows: SliceRow[] = [...unique.values()].map(({ slice, payload }) => {
        const seq = next.get(slice.group)! + 1;
        next.set(slice.group, seq);
        return {
          group: slice.group,
          source: slice.source,
          feedId: slice.feedId,
          seq,
          period: slice.period,
          exchangeId: slice.origin.exchangeId ?? null,
          observationCount: slice.observations.length,
          payload,
        };
      });
      const inserted = await this.store.insertSlices(q, rows);
      fresh = [...unique.values()].filter((r) => inserted.has(sliceId(r.slice)));
      rows.forEach((r) => {
        if (inserted.has(sliceId(r)) && r.seq > (applied.get(r.group) ?? 0))
          applied.set(r.group, r.seq);
      });
      await this.store.setApplied(q, applied);
      await this.audit.markAccepted(
        q,
        fresh.flatMap((r) => (r.slice.origin.exchangeId ? [r.slice.origin.exchangeId] : [])),
      );
      await q.commitTransaction();
    } catch (e) {
      if (q.isTransactionActive) await q.rollbackTransaction().catch(() => undefined);
      // Memory is only touched after the commit: nothing to undo there.
      throw classify(e);
    } finally {
      await q.release();
    }

    let cellsChanged = 0;
    let observations = 0;
    for (const r of fresh) {
      const state = states.get(r.slice.group)!;
      cellsChanged += state.apply(sliceInput(r.slice), true);
      observations += r.slice.observations.length;
    }
    for (const [g, seq] of applied) this.cache.setVersion(g, { ...held.get(g)!, applied: seq });
    return {
      slices: records.length,
      fresh: fresh.length,
      duplicates: records.length - fresh.length,
      observations,
      cellsChanged,
    };
  }
}
