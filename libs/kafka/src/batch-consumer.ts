import { Logger } from '@nestjs/common';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { HubError } from '@app/contract';

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
 */
export type BatchHandler = (
  messages: readonly ConsumedMessage[],
  ctx: { heartbeat: () => Promise<void> },
) => Promise<void>;

export interface BatchConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly handler: BatchHandler;
  /** Attempts for a batch failing with a retriable error before the consumer stops. */
  readonly retries: number;
  readonly fromBeginning?: boolean;
  /** Called when the consumer stopped for good (crash without restart, retries exhausted). */
  readonly onFatal?: (error: unknown) => void;
}

export interface ConsumerStatus {
  readonly groupId: string;
  readonly running: boolean;
  readonly lastBatchAt: string | null;
  readonly lastError: string | null;
  readonly batches: number;
  readonly messages: number;
}

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
  private messages = 0;

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
      maxBytesPerPartition: 4 * 1024 * 1024,
      retry: { retries: 10 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (e) => {
      const restart = (e.payload as { restart?: boolean }).restart;
      this.lastError = String(e.payload.error);
      this.log.error(`consumer crashed (restart: ${restart}): ${e.payload.error}`);
      if (!restart) {
        this.running = false;
        this.options.onFatal?.(e.payload.error);
      }
    });
    await consumer.connect();
    await consumer.subscribe({
      topics: [...this.options.topics],
      fromBeginning: this.options.fromBeginning ?? true,
    });
    this.running = true;
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
        await this.withRetries(messages, heartbeat);
        // Advance the in-memory position (else kafkajs fetches the batch again), then commit.
        resolveOffset(batch.lastOffset());
        const next = (BigInt(batch.lastOffset()) + 1n).toString();
        await consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: next },
        ]);
        this.lastBatchAt = new Date();
        this.batches++;
        this.messages += messages.length;
      },
    });
  }

  private async withRetries(
    messages: ConsumedMessage[],
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.handler(messages, { heartbeat });
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

  status(): ConsumerStatus {
    return {
      groupId: this.options.groupId,
      running: this.running,
      lastBatchAt: this.lastBatchAt?.toISOString() ?? null,
      lastError: this.lastError,
      batches: this.batches,
      messages: this.messages,
    };
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.consumer?.disconnect();
  }
}
