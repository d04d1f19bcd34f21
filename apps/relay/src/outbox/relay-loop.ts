import { MAX_REQUEST_BYTES, TOPICS } from '@app/contract';
import { type CopyClient, OutboxStore, type PendingEvent, type Sql } from '@app/database';
import { sendInChunks } from '@app/kafka';
import { Logger } from '@nestjs/common';
import type { Message, Producer } from 'kafkajs';

const BATCH = 2_000;

export interface RelayStatus {
  leader: boolean;
  published: number;
  lastPublishAt: string | null;
  lastError: string | null;
}

/**
 * A database session the relay holds its lock on, listening to the flushes' notifications
 * (OutboxStore.listen; each calls `wake`): connected anew after an error.
 */
export interface RelaySession extends Sql {
  /** The same session's client, for reading events as bytes. */
  readonly client: CopyClient;
  close(): Promise<void>;
}

/**
 * Publishes the change log (the outbox) to `lgsp.kpi.v1` in id order, in batches (the next
 * read while one is sent), with an idempotent producer, and then moves its position past
 * them: at least once, never out of order per key. One relay runs at a time across instances
 * (a Postgres session lock), which keeps revisions in order on the compacted topic. A flush's
 * commit wakes it (LISTEN/NOTIFY); it also looks every `pollMs`.
 */
export class RelayLoop {
  private readonly log = new Logger('OutboxRelay');
  private readonly store = new OutboxStore();
  private stopped = false;
  private done?: Promise<void>;
  private wakeUp?: () => void;
  private pendingWake = false;
  readonly status: RelayStatus = {
    leader: false,
    published: 0,
    lastPublishAt: null,
    lastError: null,
  };

  constructor(
    private readonly connect: () => Promise<RelaySession>,
    private readonly producer: Producer,
    private readonly pollMs: number,
    private readonly onPublished: (events: number, backlog: number) => void = () => undefined,
  ) {}

  start(): void {
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.done;
  }

  /** New events were committed: publish without waiting for the next poll. */
  wake(): void {
    this.pendingWake = true;
    this.wakeUp?.();
  }

  private async loop(): Promise<void> {
    let q: RelaySession | undefined;
    let position: string | undefined;
    /** The next batch, read while the one before it goes to Kafka. */
    let prefetched: Promise<PendingEvent[]> | undefined;
    while (!this.stopped) {
      try {
        q ??= await this.connect();
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
        const pending = await (prefetched ?? this.store.pending(q.client, position, BATCH));
        prefetched = undefined;
        if (pending.length === 0) {
          this.onPublished(0, 0);
          await this.sleep(this.pollMs);
          continue;
        }
        const last = pending.at(-1)!.id;
        if (pending.length === BATCH) {
          prefetched = this.store.pending(q.client, last, BATCH);
          prefetched.catch(() => undefined); // awaited on the next round, or dropped on an error
        }
        await sendInChunks(this.producer, byTopic(pending), MAX_REQUEST_BYTES);
        position = last;
        await this.store.advance(q, position);
        this.status.published += pending.length;
        this.status.lastPublishAt = new Date().toISOString();
        this.status.lastError = null;
        const backlog = pending.length < BATCH ? 0 : await this.store.backlog(q);
        this.onPublished(pending.length, backlog);
      } catch (e) {
        prefetched = undefined;
        this.status.lastError = (e as Error).message;
        this.log.error(`outbox relay: ${this.status.lastError}; retrying in 1 s`);
        this.status.leader = false;
        await q?.close().catch(() => undefined);
        q = undefined;
        await this.sleep(1_000);
      }
    }
    if (q) {
      if (this.status.leader) await this.store.unlockRelay(q).catch(() => undefined);
      await q.close().catch(() => undefined);
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

/** Published figures to `lgsp.kpi.v1`, re-based history to `lgsp.kpi.rebased.v1`, in order. */
function byTopic(pending: readonly PendingEvent[]): { topic: string; messages: Message[] }[] {
  const kpi: Message[] = [];
  const rebased: Message[] = [];
  for (const e of pending) (e.rebased ? rebased : kpi).push({ key: e.key, value: e.payload });
  return [
    { topic: TOPICS.kpi, messages: kpi },
    { topic: TOPICS.kpiRebased, messages: rebased },
  ].filter((t) => t.messages.length > 0);
}
