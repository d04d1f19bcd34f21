import { Logger } from '@nestjs/common';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { FEED_ERROR, HubError } from '@app/contract';
import { METRICS } from '@app/service';
import { registerCodecs } from './codecs.js';

export interface ConsumedMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | undefined;
  readonly value: Buffer | null;
  readonly headers: KafkaMessage['headers'];
  readonly timestamp: string;
  /**
   * Set on a stand-in for a record batch the client could not decompress or decode: `value`
   * holds the batch's bytes, `offset` its first offset and `lastOffset` its last.
   */
  readonly undecodable?: { readonly lastOffset: string; readonly reason: string };
}

/**
 * Sets one record aside where its error can be read (the DLQ), so that the records behind it
 * flow. Resolves once that is durable; throws only when the infrastructure fails.
 */
export type Quarantine = (message: ConsumedMessage, error: HubError) => Promise<void>;

/**
 * Handles one batch of one partition. Resolves when its effects are durable; only then are the
 * offsets committed. Throwing a retriable error (or any non-HubError) retries the batch.
 * `backlog`: records were waiting behind this batch, in its partition or another one the
 * consumer reads (as of each partition's last fetch).
 */
export type BatchHandler = (
  messages: readonly ConsumedMessage[],
  ctx: { heartbeat: () => Promise<void>; backlog: boolean },
) => Promise<void>;

export interface BatchConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly handler: BatchHandler;
  /** Attempts for a batch failing with a retriable error before the consumer stops. */
  readonly retries: number;
  /** Where a record that cannot be handled goes (see `Quarantine`). */
  readonly quarantine: Quarantine;
  /**
   * Resolves when the infrastructure the handler needs (database, broker) answers, throws
   * when it does not. A batch that keeps failing while it answers fails for its data.
   */
  readonly probe: () => Promise<void>;
  /**
   * Where a group without committed offsets starts: `earliest` (all history, the default) or
   * `latest` (only what is produced after it started; pinned before it joins, so nothing sent
   * after start-up is skipped).
   */
  readonly startAt?: 'earliest' | 'latest';
  /** Called when the consumer stopped for good (crash without restart, retries exhausted). */
  readonly onFatal?: (error: unknown) => void;
  /** Lag with no progress for this long makes the consumer "stalled" (unhealthy). */
  readonly stallAfterMs?: number;
  /** Bytes a fetch brings at most, in all partitions (default FETCH_BYTES). */
  readonly fetchBytes?: number;
  /** Called after each rebalance with the partitions this member now reads, per topic. */
  readonly onAssigned?: (assignment: Readonly<Record<string, readonly number[]>>) => void;
}

export interface ConsumerStatus {
  readonly groupId: string;
  readonly running: boolean;
  /** Stopped for good (retries spent, the infrastructure down, a crash not restarted). */
  readonly failed: boolean;
  readonly lastBatchAt: string | null;
  readonly lastError: string | null;
  readonly batches: number;
  readonly messages: number;
  /** Records not yet committed, all partitions, as of the last lag check (every 5 s). */
  readonly lag: number | null;
  /** Lag and no progress for longer than stallAfterMs. */
  readonly stalled: boolean;
  /** The partitions this member reads since the last rebalance, per topic. */
  readonly assignment: Readonly<Record<string, readonly number[]>>;
}

type BatchContext = { heartbeat: () => Promise<void>; backlog: boolean };

/**
 * Attempts for each part while a failing batch is halved, and the pause between them: the
 * batch's retries are spent by then and the infrastructure has answered the probe, so a part
 * that fails twice in a row holds a record at fault.
 */
const ISOLATION_ATTEMPTS = 2;
const ISOLATION_PAUSE_MS = 50;

/** Any error but a HubError that says otherwise may be transient: a bug is found by isolation. */
const isRetriable = (error: unknown): boolean => !(error instanceof HubError) || error.retriable;

const describe = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

const where = (messages: readonly ConsumedMessage[]): string =>
  `${messages[0]!.topic}[${messages[0]!.partition}] offsets ${messages[0]!.offset}..${messages.at(-1)!.offset}`;

/**
 * What a record's DLQ entry says of an error it alone causes: a HubError that is not
 * retriable keeps its code; anything else (a bug, or a "transient" error while everything
 * answers) is INTERNAL_ERROR with the error's message.
 */
function asDataError(error: unknown): HubError {
  if (error instanceof HubError && !error.retriable) return error;
  const name = error instanceof Error && error.name !== 'Error' ? `${error.name}: ` : '';
  return new HubError(FEED_ERROR.internalError, `${name}${describe(error)}`, false, {
    cause: error,
  });
}

/** The consumer's view of a kafkajs record (or of the stand-in for an undecodable batch). */
function consumedMessage(topic: string, partition: number, m: KafkaMessage): ConsumedMessage {
  const bad = (m as { undecodable?: { firstOffset: string; reason: string } }).undecodable;
  return {
    topic,
    partition,
    offset: bad ? bad.firstOffset : m.offset,
    key: m.key?.toString('utf8'),
    value: m.value,
    headers: m.headers,
    timestamp: m.timestamp,
    ...(bad ? { undecodable: { lastOffset: m.offset, reason: bad.reason } } : {}),
  };
}

/**
 * Bytes a fetch brings, per partition and in all. A batch is parsed whole and held until its
 * effects are durable, so this bounds a service's memory more than anything else it does:
 * 1 MB is a dozen feeds of a thousand observations (a larger record still comes alone);
 * kafkajs' defaults took the ingest's memory to several times its budget.
 */
const FETCH_BYTES_PER_PARTITION = 1024 * 1024;
const FETCH_BYTES = 4 * 1024 * 1024;

/**
 * A kafkajs consumer running `eachBatch` with offsets committed only after the handler's
 * effects are durable. At-least-once delivery; handlers make it exactly-once in effect.
 */
export class BatchConsumer {
  private readonly log: Logger;
  private consumer?: Consumer;
  private running = false;
  private failed = false;
  private lastBatchAt: Date | null = null;
  private lastError: string | null = null;
  private batches = 0;
  /** stop() was called: what the consumer does after that is not a failure of the service. */
  private stopped = false;
  private assignment: Readonly<Record<string, readonly number[]>> = {};
  private messages = 0;
  private lastProgress = Date.now();
  private lag: number | null = null;
  private lagTimer?: NodeJS.Timeout;
  /** Records behind the last batch fetched, per `topic:partition`. */
  private readonly behind = new Map<string, number>();

  constructor(
    private readonly kafka: Kafka,
    private readonly options: BatchConsumerOptions,
  ) {
    this.log = new Logger(`BatchConsumer:${options.groupId}`);
  }

  async start(): Promise<void> {
    registerCodecs();
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      maxBytesPerPartition: FETCH_BYTES_PER_PARTITION,
      maxBytes: this.options.fetchBytes ?? FETCH_BYTES,
      // An idle fetch waits this long on the broker, and leaving the group waits for it: with
      // kafkajs' 5 s, a clean stop took as long. Records are returned as soon as there are any.
      maxWaitTimeInMs: 1_000,
      retry: { retries: 10 },
    });
    this.consumer = consumer;
    if (this.options.startAt === 'latest') await this.retrying(() => this.pinNewGroupAtEnd());
    consumer.on(consumer.events.CRASH, (e) => {
      const restart = (e.payload as { restart?: boolean }).restart;
      if (this.stopped) {
        // stop() disconnected it with a batch in flight (a rejoin with other topics): that
        // batch's offsets are not committed, so the records are read again; not a failure.
        this.log.warn(`consumer stopped with a batch in flight: ${e.payload.error}`);
        return;
      }
      this.lastError = String(e.payload.error);
      this.log.error(`consumer crashed (restart: ${restart}): ${e.payload.error}`);
      if (!restart) {
        this.running = false;
        this.fail(e.payload.error);
      }
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.behind.clear();
      this.assignment = e.payload.memberAssignment;
      this.options.onAssigned?.(e.payload.memberAssignment);
    });
    await consumer.connect();
    await consumer.subscribe({
      topics: [...this.options.topics],
      fromBeginning: true,
    });
    this.lastProgress = Date.now();
    this.lagTimer = setInterval(() => void this.checkLag(), 5_000);
    this.lagTimer.unref();
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        if (!isRunning() || isStale() || batch.messages.length === 0) return;
        const messages: ConsumedMessage[] = batch.messages.map((m) =>
          consumedMessage(batch.topic, batch.partition, m),
        );
        const began = process.hrtime.bigint();
        this.behind.set(`${batch.topic}:${batch.partition}`, Number(batch.offsetLag()));
        let backlog = false;
        for (const n of this.behind.values()) if (n > 0) backlog = true;
        await this.handleIsolating(messages, { heartbeat, backlog });
        // Stopped meanwhile: leave the offsets to whoever reads these partitions next.
        if (this.stopped) return;
        // Advance the in-memory position (else kafkajs fetches the batch again), then commit.
        resolveOffset(batch.lastOffset());
        const next = (BigInt(batch.lastOffset()) + 1n).toString();
        await consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: next },
        ]);
        this.lastBatchAt = new Date();
        this.lastProgress = Date.now();
        this.batches++;
        this.messages += messages.length;
        const group = this.options.groupId;
        METRICS.batchSize.observe({ group }, messages.length);
        METRICS.batchDuration.observe({ group }, Number(process.hrtime.bigint() - began) / 1e9);
        METRICS.consumerLag.set(
          { group, topic: batch.topic, partition: String(batch.partition) },
          Number(batch.offsetLag()),
        );
      },
    });
    // Running (and ready) once it has joined its group: kafkajs' run() resolves after the join.
    if (!this.stopped && !this.failed) this.running = true;
  }

  /**
   * Hands the batch over; when it keeps failing, tells an infrastructure fault (retried, then
   * the consumer stops and the service exits for its supervisor) from a record that cannot be
   * handled, whatever the error (a bug included): that record is set aside and every other is
   * handled. No record can stop the service or block its partition (contract promise 4).
   */
  private async handleIsolating(messages: ConsumedMessage[], ctx: BatchContext): Promise<void> {
    const undecodable = messages.filter((m) => m.undecodable);
    for (const m of undecodable)
      await this.setAside(
        m,
        new HubError(FEED_ERROR.undecodableBatch, m.undecodable!.reason, false),
        ctx,
      );
    const readable = undecodable.length ? messages.filter((m) => !m.undecodable) : messages;
    if (readable.length === 0) return;
    const error = await this.attempt(readable, ctx, this.options.retries);
    if (error === undefined) return;
    await this.failIfInfrastructure(readable, error);
    this.log.warn(
      `batch ${where(readable)} fails for its data (${describe(error)}): finding the record(s) at fault`,
    );
    await this.isolate(readable, ctx, error);
  }

  /** Halves the records until the ones at fault stand alone, and sets those aside. */
  private async isolate(
    messages: ConsumedMessage[],
    ctx: BatchContext,
    error: unknown,
  ): Promise<void> {
    if (messages.length === 1) return this.setAside(messages[0]!, asDataError(error), ctx);
    const half = Math.ceil(messages.length / 2);
    for (const part of [messages.slice(0, half), messages.slice(half)]) {
      // Halving a batch of many bad records takes many rounds: stay in the group meanwhile.
      await ctx.heartbeat();
      const failed = await this.attempt(part, ctx, ISOLATION_ATTEMPTS, ISOLATION_PAUSE_MS);
      if (failed === undefined) continue;
      await this.failIfInfrastructure(part, failed);
      await this.isolate(part, ctx, failed);
    }
  }

  /**
   * Runs the handler up to `attempts` times, `pauseMs` apart (default: backing off from 400 ms
   * to 5 s); returns the last error, if it never succeeded.
   */
  private async attempt(
    messages: ConsumedMessage[],
    ctx: BatchContext,
    attempts: number,
    pauseMs?: number,
  ): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.handler(messages, ctx);
        this.lastError = null;
        return undefined;
      } catch (error) {
        this.lastError = describe(error);
        if (!isRetriable(error) || attempt >= attempts) return error;
        this.log.warn(
          `batch ${where(messages)} failed (attempt ${attempt}/${attempts}), retrying: ${this.lastError}`,
        );
        await ctx.heartbeat();
        const pause = pauseMs ?? Math.min(200 * 2 ** attempt, 5_000);
        await new Promise((r) => setTimeout(r, pause));
      }
    }
  }

  /**
   * A retriable error while the database or the broker does not answer is theirs: the
   * consumer stops (its offsets uncommitted) and the service exits for its supervisor.
   */
  private async failIfInfrastructure(messages: ConsumedMessage[], error: unknown): Promise<void> {
    if (!isRetriable(error)) return;
    try {
      await this.options.probe();
      return;
    } catch (down) {
      this.log.error(
        `batch ${where(messages)} failed for good: ${describe(error)}; the infrastructure does not answer (${describe(down)})`,
      );
      this.running = false;
      this.fail(error);
      throw error;
    }
  }

  private async setAside(m: ConsumedMessage, error: HubError, ctx: BatchContext): Promise<void> {
    this.log.error({
      message: `set aside: ${error.code}: ${error.message}`,
      topic: m.topic,
      partition: m.partition,
      offset: m.offset,
      ...(m.undecodable ? { lastOffset: m.undecodable.lastOffset } : {}),
    });
    METRICS.recordsSetAside.inc({ group: this.options.groupId, code: error.code });
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.options.quarantine(m, error);
      } catch (e) {
        if (attempt >= this.options.retries) {
          this.running = false;
          this.fail(e);
          throw e;
        }
        this.log.warn(`could not set the record aside (attempt ${attempt}): ${describe(e)}`);
        await ctx.heartbeat();
        await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** attempt, 5_000)));
      }
    }
  }

  /**
   * Retries what a young broker refuses for a while ("not the correct coordinator for this
   * group" until the offsets topic has a leader), for up to 30 s.
   */
  private async retrying(work: () => Promise<void>): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        return await work();
      } catch (e) {
        if (!(e as { retriable?: boolean }).retriable || Date.now() > deadline) throw e;
        this.log.warn(`broker not ready (${(e as Error).message}); trying again`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** For a group that has never committed: commit the current end of every partition. */
  private async pinNewGroupAtEnd(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      for (const topic of this.options.topics) {
        const committed = await admin.fetchOffsets({
          groupId: this.options.groupId,
          topics: [topic],
        });
        if (committed[0]?.partitions.some((p) => Number(p.offset) >= 0)) continue;
        const ends = await admin.fetchTopicOffsets(topic);
        await admin.setOffsets({
          groupId: this.options.groupId,
          topic,
          partitions: ends.map((p) => ({ partition: p.partition, offset: p.high })),
        });
      }
    } finally {
      await admin.disconnect();
    }
  }

  /** Committed offsets against the partitions' ends: lag per partition, whatever the traffic. */
  private async checkLag(): Promise<void> {
    const admin = this.kafka.admin({ retry: { retries: 0 } });
    try {
      await admin.connect();
      let total = 0;
      for (const topic of this.options.topics) {
        const [ends, committed] = await Promise.all([
          admin.fetchTopicOffsets(topic),
          admin.fetchOffsets({ groupId: this.options.groupId, topics: [topic] }),
        ]);
        const done = new Map(committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]));
        for (const p of ends) {
          const at = done.get(p.partition) ?? -1;
          const lag = Number(p.high) - (at < 0 ? Number(p.low) : at);
          total += lag;
          METRICS.consumerLag.set(
            { group: this.options.groupId, topic, partition: String(p.partition) },
            lag,
          );
        }
      }
      this.lag = total;
      if (total === 0) this.lastProgress = Date.now();
    } catch (e) {
      this.lag = null;
      this.lastError = `lag check: ${(e as Error).message}`;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private fail(error: unknown): void {
    this.failed = true;
    this.options.onFatal?.(error);
  }

  status(): ConsumerStatus {
    const stalled =
      (this.lag ?? 0) > 0 && Date.now() - this.lastProgress > (this.options.stallAfterMs ?? 30_000);
    return {
      groupId: this.options.groupId,
      running: this.running,
      failed: this.failed,
      lastBatchAt: this.lastBatchAt?.toISOString() ?? null,
      lastError: this.lastError,
      batches: this.batches,
      messages: this.messages,
      lag: this.lag,
      stalled,
      assignment: this.assignment,
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.running = false;
    clearInterval(this.lagTimer);
    await this.consumer?.disconnect();
  }
}
