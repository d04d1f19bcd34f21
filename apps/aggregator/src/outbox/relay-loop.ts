// Single files, not the libs' indexes: this runs on the relay thread, whose heap would
// otherwise hold TypeORM and the feed DTOs too (see relay.worker.ts).
import { MAX_REQUEST_BYTES, TOPICS } from '@app/contract/src/topics.js';
import {
  type BytesClient,
  OutboxStore,
  type PendingEvent,
  type Sql,
} from '@app/database/src/outbox-store.js';
import { type WrittenRows, writtenEvents } from '@app/database/src/change-log-writer.js';
import { sendInChunks } from '@app/kafka/src/kafka-client.js';
import { Logger } from '@nestjs/common';
import type { Producer } from 'kafkajs';

const BATCH = 2_000;
/** Up to how many bytes of committed rows wait in memory; beyond, they are read back. */
const HANDED_BYTES = 32 << 20;

export interface RelayStatus {
  leader: boolean;
  published: number;
  /** Of those, the events handed over in memory by the flushes that wrote them. */
  handedOver: number;
  lastPublishAt: string | null;
  lastError: string | null;
}

/** A database session the relay holds its lock on: connected anew after an error. */
export interface RelaySession extends Sql {
  /** The same session's client, for reading events as bytes. */
  readonly client: BytesClient;
  close(): Promise<void>;
}

/**
 * Publishes the change log (the outbox) to `lgsp.kpi.v1` in id order, in batches (the next
 * read while one is sent), with an idempotent producer, and then moves its position past
 * them: at least once, never out of order per key. One relay runs at a time across instances
 * (a Postgres session lock), which keeps revisions in order on the compacted topic. No Nest
 * here: it runs on its own thread.
 */
export class RelayLoop {
  private readonly log = new Logger('OutboxRelay');
  private readonly store = new OutboxStore();
  private stopped = false;
  private done?: Promise<void>;
  private wakeUp?: () => void;
  private pendingWake = false;
  /** Committed rows handed over, in id order, and their bytes. */
  private handed: WrittenRows[] = [];
  private handedBytes = 0;
  readonly status: RelayStatus = {
    leader: false,
    published: 0,
    handedOver: 0,
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

  /**
   * A flush committed these rows (as its COPYs sent them): publish them without reading them
   * back, if they follow on from what was published. Kept only by the leader, and up to
   * HANDED_BYTES; what is not kept is read from the change log as before.
   */
  handOver(rows: readonly WrittenRows[]): void {
    for (const r of rows) {
      if (!this.status.leader || this.handedBytes + r.data.length > HANDED_BYTES) break;
      const tail = this.handed.at(-1);
      if (tail && r.first <= tail.last) break;
      this.handed.push(r);
      this.handedBytes += r.data.length;
    }
    this.wake();
  }

  /**
   * The events handed over that follow `position`, up to a batch of whole COPYs (none when
   * the next handed over does not follow on: another instance's flush, or rows not kept,
   * come between, and are read from the change log); drops those published already, wholly or in part.
   */
  private takeHanded(position: number): PendingEvent[] | undefined {
    // Published already, or in part (read back while it was handed over): read the rest.
    while (this.handed.length && this.handed[0]!.first <= position) this.drop();
    let next = position + 1;
    const out: PendingEvent[] = [];
    while (this.handed.length && this.handed[0]!.first === next && out.length < BATCH) {
      const r = this.drop();
      for (const e of writtenEvents(r.data)) out.push(e);
      next = r.last + 1;
    }
    return out.length ? out : undefined;
  }

  private drop(): WrittenRows {
    const r = this.handed.shift()!;
    this.handedBytes -= r.data.length;
    return r;
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
        const handed = this.takeHanded(Number(position));
        // Read back up to what was handed over, if that is further on.
        const upTo = this.handed.length ? this.handed[0]!.first - Number(position) - 1 : BATCH;
        const pending =
          handed ??
          (await (prefetched ?? this.store.pending(q.client, position, Math.min(upTo, BATCH))));
        prefetched = undefined;
        if (pending.length === 0) {
          this.onPublished(0, 0);
          await this.sleep(this.pollMs);
          continue;
        }
        const last = pending.at(-1)!.id;
        if (!handed && pending.length === BATCH && !this.handed.length) {
          prefetched = this.store.pending(q.client, last, BATCH);
          prefetched.catch(() => undefined); // awaited on the next round, or dropped on an error
        }
        await sendInChunks(
          this.producer,
          [{ topic: TOPICS.kpi, messages: pending.map((e) => ({ key: e.key, value: e.payload })) }],
          MAX_REQUEST_BYTES,
        );
        position = last;
        await this.store.advance(q, position);
        this.status.published += pending.length;
        if (handed) this.status.handedOver += pending.length;
        this.status.lastPublishAt = new Date().toISOString();
        this.status.lastError = null;
        // Handed over: the backlog is what waits in memory (a query per COPY would cost more).
        const backlog = handed
          ? this.handed.reduce((n, r) => n + r.last - r.first + 1, 0)
          : pending.length < BATCH
            ? 0
            : await this.store.backlog(q);
        this.onPublished(pending.length, backlog);
      } catch (e) {
        prefetched = undefined;
        // Read back from the change log once it leads again.
        while (this.handed.length) this.drop();
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
