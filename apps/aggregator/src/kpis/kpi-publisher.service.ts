import { HUB_CONFIG, type HubConfig } from '@app/config';
import { DATA_SOURCE, RegistryStore, SliceStore } from '@app/database';
import { METRICS } from '@app/service';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { GroupCache } from '../groups/group-cache.service.js';
import { Serial } from '../groups/serial.js';
import {
  type FlushClock,
  type FlushLimits,
  dueGroups,
  dueReason,
  isQuiet,
  isWaiting,
} from './flush-policy.js';
import { PublishKpisHandler } from './publish-kpis.handler.js';

/**
 * Decides when a group's dirty KPI keys are published (a debounce, by `dueGroups`): once
 * feeds have stopped arriving for a quiet period and nothing is known to be waiting (the
 * consumer's lag, or the ingest's backlog as the last slices said, for up to 10 s), or when the
 * oldest unpublished change is KPI_FLUSH_MAX_DELAY_MS old (KPI_FLUSH_BACKLOG_MAX_DELAY_MS
 * while more is waiting). A trickle is published within a fraction of a second; a key moved
 * by a thousand feeds of a backfill gets one event, not a thousand. Also publishes what a
 * crash or a rebalance left unpublished in the groups this instance owns.
 */
@Injectable()
export class KpiPublisher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger(KpiPublisher.name);
  private readonly registry = new RegistryStore();
  private readonly slices = new SliceStore();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  /** Owns a group: set from the consumer's assignment. */
  private owns: (group: string) => boolean = () => true;
  /** More is waiting: the consumer's lag, or the ingest's as the last slices said. */
  private backlog = false;
  private lastArrival = 0;
  /** When more slices were last known to be waiting. */
  private behindAt = 0;
  private readonly limits: FlushLimits;
  /** Slices applied in the last second, as (time, count). */
  private readonly recent: [number, number][] = [];
  readonly status = {
    flushes: 0,
    events: 0,
    lastFlushAt: null as string | null,
    lastError: null as string | null,
  };

  constructor(
    @Inject(HUB_CONFIG) config: HubConfig,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    private readonly cache: GroupCache,
    private readonly handler: PublishKpisHandler,
    private readonly serial: Serial,
  ) {
    this.limits = {
      quietMs: config.KPI_FLUSH_QUIET_MS,
      maxDelayMs: config.KPI_FLUSH_MAX_DELAY_MS,
      backlogMaxDelayMs: config.KPI_FLUSH_BACKLOG_MAX_DELAY_MS,
    };
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.kick(), 100);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** `slices` were applied; `backlog`: more are known to be waiting. */
  arrived(slices: number, backlog: boolean): void {
    const now = Date.now();
    this.backlog = backlog;
    this.lastArrival = now;
    if (backlog) this.behindAt = now;
    this.recent.push([now, slices]);
    this.kick();
  }

  /** The dirty groups, into the gauges (how many, the age of the oldest change). */
  private observe(now: number): { code: string; dirtySince: number }[] {
    const dirty = this.cache.dirty().map((s) => ({ code: s.code, dirtySince: s.dirtySince! }));
    METRICS.dirtyGroups.set(dirty.length);
    const oldest = dirty.reduce((m, g) => Math.min(m, g.dirtySince), now);
    METRICS.unpublishedAge.set((now - oldest) / 1000);
    return dirty;
  }

  private clock(now: number): FlushClock {
    return {
      now,
      lastArrival: this.lastArrival,
      recentSlices: this.recentSlices(now),
      backlog: this.backlog,
      behindAt: this.behindAt,
    };
  }

  /** Slices applied in the last second. */
  private recentSlices(now: number): number {
    while (this.recent.length && this.recent[0]![0] < now - 1_000) this.recent.shift();
    let n = 0;
    for (const [, c] of this.recent) n += c;
    return n;
  }

  /** Publishes what is due, unless a round is already running (it then runs once more). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.publishDue().finally(() => (this.running = undefined));
  }

  /** Whether more slices are known to be waiting. */
  get waiting(): boolean {
    return isWaiting(this.clock(Date.now()));
  }

  /** Dirty groups, oldest change first. */
  pending(): { groups: number; oldestMs: number | null } {
    const dirty = this.cache.dirty();
    const oldest = Math.min(...dirty.map((s) => s.dirtySince!));
    return { groups: dirty.length, oldestMs: dirty.length ? Date.now() - oldest : null };
  }

  private async publishDue(): Promise<void> {
    do {
      this.again = false;
      const now = Date.now();
      const dirty = this.observe(now);
      const clock = this.clock(now);
      if (isWaiting(clock)) this.behindAt = now;
      const due = dueGroups(dirty, clock, this.limits);
      if (due.length === 0) return;
      const why = `publishing ${due.length} of ${dirty.length} dirty group(s): ${dueReason(clock, this.limits)}`;
      // A burst's end is the usual case; a max delay means feeds kept arriving throughout.
      if (isQuiet(clock, this.limits)) this.log.debug?.(why);
      else this.log.log(why);
      await this.publish(due);
    } while (this.again && !this.stopped);
  }

  private async publish(groups: readonly string[]): Promise<void> {
    try {
      const registry = await this.registry.load(this.ds);
      for (const g of groups) {
        if (this.stopped) return;
        const r = await this.serial.run(() => this.handler.publish(g, registry));
        this.status.flushes++;
        this.status.events += r.events;
        this.status.lastFlushAt = new Date().toISOString();
        this.observe(Date.now());
        if (r.events > 0) {
          this.log.debug?.(
            `group ${g}: ${r.evaluated} key(s) evaluated, ${r.events} event(s)` +
              (r.ms
                ? ` (ms: evaluating ${Math.round(r.ms.compute)}, building events ${Math.round(r.ms.events)}, waiting for writes ${Math.round(r.ms.write)}, in all ${Math.round(r.ms.total)})`
                : ''),
          );
        }
      }
      this.status.lastError = null;
    } catch (e) {
      // The group stays dirty and is tried again on the next round.
      this.status.lastError = (e as Error).message;
      this.log.error(`publishing KPI changes failed, trying again: ${this.status.lastError}`);
    }
  }

  /**
   * After a rebalance: forget the groups of partitions this instance no longer reads (their
   * new owner loads them), and publish what is unpublished in the ones it now owns.
   */
  assigned(owns: (group: string) => boolean): void {
    this.owns = owns;
    void this.serial
      .run(async () => {
        for (const g of this.cache.held()) if (!owns(g)) this.cache.drop(g);
      })
      .then(() => this.recover())
      .catch((e: unknown) => this.log.error(`after the rebalance: ${(e as Error).message}`));
  }

  private async recover(): Promise<void> {
    const left = (await this.slices.unpublished(this.ds)).filter((g) => this.owns(g));
    if (left.length === 0) return;
    this.log.log(
      `publishing what was left unpublished in ${left.length} group(s): ${left.join(', ')}`,
    );
    await this.publish(left);
  }
}
