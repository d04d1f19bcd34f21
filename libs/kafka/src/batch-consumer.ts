import { Logger } from '@nestjs/common';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { HubError } from '@app/contract';
import { METRICS } from '@app/service';

export interface ConsumedMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | undefined;
  readonly value: Buffer | null;
  readonly headers: KafkaMessage['headers'];
  readonly timestamp: string;
}

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

/**
 * Bytes a fetch brings, per partition and in all. A batch is parsed whole and held until its
 * effects are durable, so this bounds a service's memory more than anything else it does:
 * 1 MB is a dozen feeds of a thousand observations (a larger record still comes alone).
 * 4 MB per partition and 10 MB in all (kafkajs' default) took the ingest to 300 MB of RSS.
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
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      maxBytesPerPartition: FETCH_BYTES_PER_PARTITION,
      maxBytes: this.options.fetchBytes ?? FETCH_BYTES,
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
        this.options.onFatal?.(e.payload.error);
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
    this.running = true;
    this.lastProgress = Date.now();
    this.lagTimer = setInterval(() => void this.checkLag(), 5_000);
    this.lagTimer.unref();
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        if (!isRunning() || isStale() || batch.messages.length === 0) return;
        const messages: ConsumedMessage[] = batch.messages.map((m) => ({
          topic: batch.topic,
          partition: batch.partition,
          offset: m.offset,
          key: m.key?.toString('utf8'),
          value: m.value,
          headers: m.headers,
          timestamp: m.timestamp,
        }));
        const began = process.hrtime.bigint();
        this.behind.set(`${batch.topic}:${batch.partition}`, Number(batch.offsetLag()));
        let backlog = false;
        for (const n of this.behind.values()) if (n > 0) backlog = true;
        await this.withRetries(messages, { heartbeat, backlog });
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
  }

  private async withRetries(
    messages: ConsumedMessage[],
    ctx: { heartbeat: () => Promise<void>; backlog: boolean },
  ): Promise<void> {
    const { heartbeat } = ctx;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.handler(messages, ctx);
        this.lastError = null;
        return;
      } catch (error) {
        const retriable = !(error instanceof HubError) || error.retriable;
        this.lastError = error instanceof Error ? error.message : String(error);
        const where = `${messages[0]!.topic}[${messages[0]!.partition}] offsets ${messages[0]!.offset}..${messages.at(-1)!.offset}`;
        if (!retriable || attempt >= this.options.retries) {
          this.log.error(
            `batch ${where} failed for good after ${attempt} attempt(s): ${this.lastError}`,
          );
          this.running = false;
          this.options.onFatal?.(error);
          throw error;
        }
        this.log.warn(
          `batch ${where} failed (attempt ${attempt}/${this.options.retries}), retrying: ${this.lastError}`,
        );
        await heartbeat();
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

  status(): ConsumerStatus {
    const stalled =
      (this.lag ?? 0) > 0 && Date.now() - this.lastProgress > (this.options.stallAfterMs ?? 30_000);
    return {
      groupId: this.options.groupId,
      running: this.running,
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
