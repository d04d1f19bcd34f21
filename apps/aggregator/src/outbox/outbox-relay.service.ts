import { METRICS } from '@app/service';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { HUB_CONFIG, type HubConfig } from '@app/config';
import { OutboxStore, DATA_SOURCE } from '@app/database';
import { MAX_REQUEST_BYTES, TOPICS } from '@app/contract';
import { createIdempotentProducer, KAFKA, sendInChunks } from '@app/kafka';
import type { Kafka, Producer } from 'kafkajs';
import type { DataSource, QueryRunner } from 'typeorm';

const BATCH = 5_000;

/**
 * Publishes the change log (the outbox) to `lgsp.kpi.v1` in id order, in batches, with an
 * idempotent producer, and then moves its position past them: at least once, never out of
 * order per key. One relay runs at a time across instances (a Postgres session lock), which
 * keeps revisions in order on the compacted topic.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger(OutboxRelay.name);
  private readonly store = new OutboxStore();
  private producer?: Producer;
  private stopped = false;
  private loopDone?: Promise<void>;
  private wakeUp?: () => void;
  private pendingWake = false;
  readonly status = {
    leader: false,
    published: 0,
    lastPublishAt: null as string | null,
    lastError: null as string | null,
  };

  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.producer = createIdempotentProducer(this.kafka);
    await this.producer.connect();
    this.loopDone = this.loop();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loopDone;
    await this.producer?.disconnect();
  }

  /** New events were committed: publish without waiting for the next poll. */
  wake(): void {
    this.pendingWake = true;
    this.wakeUp?.();
  }

  backlog(): Promise<number> {
    return this.store.backlog(this.ds);
  }

  private async loop(): Promise<void> {
    let q: QueryRunner | undefined;
    let position: string | undefined;
    while (!this.stopped) {
      try {
        if (!q) {
          q = this.ds.createQueryRunner();
          await q.connect();
        }
        if (!this.status.leader) {
          this.status.leader = await this.store.tryLockRelay(q);
          if (!this.status.leader) {
            await this.sleep(1_000);
            continue;
          }
          this.log.log('this instance relays the outbox');
          position = undefined;
        }
        position ??= await this.store.position(q);
        const pending = await this.store.pending(q, position, BATCH);
        METRICS.outboxBacklog.set(
          pending.length < BATCH ? pending.length : await this.store.backlog(q),
        );
        if (pending.length === 0) {
          await this.sleep(this.config.OUTBOX_POLL_MS);
          continue;
        }
        await sendInChunks(
          this.producer!,
          [{ topic: TOPICS.kpi, messages: pending.map((e) => ({ key: e.key, value: e.payload })) }],
          MAX_REQUEST_BYTES,
        );
        position = pending.at(-1)!.id;
        await this.store.advance(q, position);
        this.status.published += pending.length;
        METRICS.kpiEventsPublished.inc(pending.length);
        this.status.lastPublishAt = new Date().toISOString();
        this.status.lastError = null;
      } catch (e) {
        this.status.lastError = (e as Error).message;
        this.log.error(`outbox relay: ${this.status.lastError}; retrying in 1 s`);
        this.status.leader = false;
        await q?.release().catch(() => undefined);
        q = undefined;
        await this.sleep(1_000);
      }
    }
    if (q) {
      if (this.status.leader) await this.store.unlockRelay(q).catch(() => undefined);
      await q.release().catch(() => undefined);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.pendingWake || this.stopped) {
      this.pendingWake = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wakeUp = () => {
        this.pendingWake = false;
        this.wakeUp = undefined;
        done();
      };
    });
  }
}
