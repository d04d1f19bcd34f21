import { GroupState, type HeldBytes, LEVEL, noHeldBytes } from '@app/aggregation';
import { parseStoredSlice, sliceInput } from '@app/contract';
import { type GroupVersion, KpiStore, SliceStore } from '@app/database';
import { METRICS, reportHeldState } from '@app/service';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { AGGREGATOR_CONTEXT, type AggregatorContext } from '../aggregator.tokens.js';

/**
 * A group is loaded in pages (slices here, published keys in KpiStore.publishedPages), so that
 * its stored slices and its published events are never all in memory at once: read whole,
 * the largest groups took hundreds of MB of heap (docs/performance.md, "Measurements behind the code").
 */
const SLICE_PAGE = 100;

interface Cached {
  readonly state: GroupState;
  version: GroupVersion;
}

/**
 * The groups this instance holds in memory. A group is only used under its row lock, and
 * only while its stored version (slices applied, slices published) is the one it was built
 * at: otherwise another instance changed it (a rebalance) and it is loaded again, by replaying
 * its slices, those not yet published marking their KPI keys dirty.
 */
@Injectable()
export class GroupCache {
  private readonly log = new Logger(GroupCache.name);
  private readonly groups = new Map<string, Cached>();
  private readonly slices = new SliceStore();
  private readonly kpis = new KpiStore();

  constructor(@Inject(AGGREGATOR_CONTEXT) private readonly ctx: AggregatorContext) {
    reportHeldState(() => ({ ...this.heldBytes() }));
  }

  /** The group as stored at `version`; call with the group's row locked. */
  async current(q: QueryRunner, group: string, version: GroupVersion): Promise<GroupState> {
    const c = this.groups.get(group);
    if (
      c &&
      c.version.applied === version.applied &&
      c.version.published === version.published &&
      c.version.approvals === version.approvals
    )
      return c.state;
    return this.load(q, group, version);
  }

  /** After a commit: the version the in-memory state now corresponds to. */
  setVersion(group: string, version: GroupVersion): void {
    const c = this.groups.get(group);
    if (c) c.version = version;
  }

  drop(group: string): void {
    this.groups.delete(group);
  }

  held(): string[] {
    return [...this.groups.keys()];
  }

  dirty(): GroupState[] {
    return [...this.groups.values()].filter((c) => c.state.isDirty).map((c) => c.state);
  }

  /** Observations held in memory, over all groups. */
  cells(): number {
    let n = 0;
    for (const c of this.groups.values()) n += c.state.cellCount;
    return n;
  }

  /** What the held groups' typed arrays take, by part (`GroupState.heldBytes`). */
  heldBytes(): HeldBytes {
    const total = noHeldBytes();
    for (const c of this.groups.values()) c.state.heldBytes(total);
    return total;
  }

  private async load(q: QueryRunner, group: string, version: GroupVersion): Promise<GroupState> {
    const began = Date.now();
    this.groups.delete(group);
    const state = new GroupState(this.ctx.layouts.get(group));
    let after = 0;
    let count = 0;
    for (;;) {
      const page = await this.slices.slices(q, group, after, SLICE_PAGE);
      for (const row of page) {
        const slice = parseStoredSlice(row.payload);
        if (!slice) throw new Error(`stored slice ${group}#${row.seq} is not a feed slice`);
        state.apply(sliceInput(slice), row.seq > version.published);
        after = row.seq;
        count++;
      }
      if (page.length < SLICE_PAGE) break;
    }
    const g = state.layout;
    const codes2008 = g.u2008.codes.filter((_, i) => g.u2008.level[i] !== LEVEL.virtual);
    for (const [bs, codes] of [
      ['2008', codes2008],
      ['2025', g.u2025.codes],
    ] as const)
      for await (const page of this.kpis.publishedPages(q, bs, codes)) state.loadPublished(page);
    const rebased = [...g.rebased.values()].map((r) => r.code);
    for await (const page of this.kpis.publishedPages(q, '2025', rebased, { rebased: true }))
      state.loadPublished(page);
    this.groups.set(group, { state, version });
    METRICS.groupLoads.inc();
    if (count > 0)
      this.log.log(
        `loaded group ${group}: ${count} slice(s), ${state.cellCount} observation(s)${state.isDirty ? ', KPI changes to publish' : ''} in ${Date.now() - began} ms`,
      );
    return state;
  }
}
