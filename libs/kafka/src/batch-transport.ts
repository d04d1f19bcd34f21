import {
  type ArgumentsHost,
  Catch,
  type DynamicModule,
  Logger,
  Module,
  type OnModuleDestroy,
  type RpcExceptionFilter,
} from '@nestjs/common';
import { BaseRpcContext, type CustomTransportStrategy, Server } from '@nestjs/microservices';
import type { Kafka } from 'kafkajs';
import { lastValueFrom, type Observable, throwError } from 'rxjs';
import type { HubError } from '@app/contract';
import {
  BatchConsumer,
  type BatchConsumerOptions,
  type ConsumedMessage,
  type ConsumerStatus,
} from './batch-consumer.js';
import { KAFKA, kafkaProvider } from './kafka-client.js';

/**
 * What one batch handler reads: the group, and its topics, given once or read again every
 * `refreshTopicsMs` (a change rejoins the group; topics new to it are read from their start).
 */
export interface BatchSubscription extends Omit<
  BatchConsumerOptions,
  'topics' | 'handler' | 'quarantine'
> {
  readonly topics: readonly string[] | (() => Promise<readonly string[]>);
  readonly refreshTopicsMs?: number;
}

/**
 * The context of a batch handler (`@Ctx()`): where the batch comes from, a heartbeat that
 * keeps the member in its group through long work, and whether more records are waiting.
 */
export class BatchContext extends BaseRpcContext<
  [topic: string, partition: number, heartbeat: () => Promise<void>, backlog: boolean]
> {
  getTopic(): string {
    return this.args[0];
  }
  getPartition(): number {
    return this.args[1];
  }
  heartbeat(): Promise<void> {
    return this.args[2]();
  }
  /** Records were waiting behind this batch when it was fetched. */
  hasBacklog(): boolean {
    return this.args[3];
  }
}

/** The payload of a set-aside handler: a record the batch handler cannot handle, and why. */
export interface SetAsideRecord {
  readonly message: ConsumedMessage;
  readonly error: HubError;
}

/** The pattern of the handler that sets aside the records a subscription's handler refuses. */
export const setAsidePattern = (pattern: string): string => `${pattern}/set-aside`;

/**
 * Hands a handler's error to the transport as it was thrown. Nest's default RPC filter would
 * turn it into "Internal server error" and lose its code and retriable flag, which decide
 * between a retry, a stop and the DLQ. Apply it to every batch handler's controller.
 */
@Catch()
export class KeepBatchErrors implements RpcExceptionFilter {
  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    return throwError(() => exception);
  }
}

/**
 * A Nest microservice transport over `BatchConsumer`: each `subscribe`d pattern is a consumer
 * group whose batches go to the `@EventPattern(pattern)` handler, and whose records at fault
 * go to `@EventPattern(setAsidePattern(pattern))`. The guarantees are BatchConsumer's: one
 * batch per handler call, offsets committed after the handler resolves, bounded retries,
 * poison isolation (ADR 0002, ADR 0004).
 *
 * A provider, so that handlers register their subscriptions at bootstrap (`subscribe`) and
 * health checks read `consumerStatus`; the service connects it with `connectMicroservice`.
 */
export class BatchTransport extends Server implements CustomTransportStrategy, OnModuleDestroy {
  private readonly subscriptions = new Map<string, BatchSubscription>();
  private readonly consumers = new Map<string, BatchConsumer>();
  private readonly topics = new Map<string, readonly string[]>();
  private readonly timers: NodeJS.Timeout[] = [];
  private closing = false;
  protected override readonly logger = new Logger(BatchTransport.name);

  constructor(private readonly kafka: Kafka) {
    super();
  }

  /** Declares what the handler of `pattern` reads; consumers start when the transport listens. */
  subscribe(pattern: string, subscription: BatchSubscription): void {
    if (this.consumers.size) throw new Error(`subscribe "${pattern}" before the transport listens`);
    this.subscriptions.set(pattern, subscription);
  }

  /** The status of the consumer behind `pattern`, once it has started. */
  consumerStatus(pattern: string): ConsumerStatus | undefined {
    return this.consumers.get(pattern)?.status();
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      for (const [pattern, subscription] of this.subscriptions) {
        const topics = await this.topicsOf(subscription);
        await this.start(pattern, topics, subscription.startAt);
        if (typeof subscription.topics === 'function') {
          const timer = setInterval(
            () => void this.refresh(pattern),
            subscription.refreshTopicsMs ?? 10_000,
          );
          timer.unref();
          this.timers.push(timer);
        }
      }
      callback();
    } catch (e) {
      callback(e);
    }
  }

  private async topicsOf(subscription: BatchSubscription): Promise<readonly string[]> {
    const topics =
      typeof subscription.topics === 'function' ? await subscription.topics() : subscription.topics;
    return [...topics].sort();
  }

  private async start(
    pattern: string,
    topics: readonly string[],
    startAt: BatchSubscription['startAt'],
  ): Promise<void> {
    const handle = this.handlerOf(pattern);
    const setAside = this.handlerOf(setAsidePattern(pattern));
    const consumer = new BatchConsumer(this.kafka, {
      ...this.subscriptions.get(pattern)!,
      topics,
      startAt,
      handler: (messages, ctx) =>
        this.invoke(
          handle,
          messages,
          new BatchContext([
            messages[0]!.topic,
            messages[0]!.partition,
            ctx.heartbeat,
            ctx.backlog,
          ]),
        ),
      quarantine: (message, error) =>
        this.invoke(
          setAside,
          { message, error } satisfies SetAsideRecord,
          new BatchContext([message.topic, message.partition, async () => undefined, false]),
        ),
    });
    this.consumers.set(pattern, consumer);
    this.topics.set(pattern, topics);
    await consumer.start();
    const group = this.subscriptions.get(pattern)!.groupId;
    this.logger.log(`"${pattern}" reads ${topics.length} topic(s) as group ${group}`);
  }

  private handlerOf(pattern: string) {
    const handler = this.getHandlerByPattern(this.normalizePattern(pattern));
    if (!handler) throw new Error(`no @EventPattern('${pattern}') handler is registered`);
    return handler;
  }

  /** Runs a Nest handler (guards, pipes, filters included) and settles with its outcome. */
  private async invoke(
    handler: NonNullable<ReturnType<Server['getHandlerByPattern']>>,
    data: unknown,
    ctx: BatchContext,
  ): Promise<void> {
    await lastValueFrom(this.transformToObservable(await handler(data, ctx)), {
      defaultValue: undefined,
    });
  }

  /**
   * Rejoins with the topics the subscription wants now. A consumer still joining its group
   * cannot leave it: stopped then, it would stay a member until its session timed out.
   */
  private async refresh(pattern: string): Promise<void> {
    const consumer = this.consumers.get(pattern);
    if (this.closing || !consumer?.status().running) return;
    try {
      const wanted = await this.topicsOf(this.subscriptions.get(pattern)!);
      if (wanted.join() === this.topics.get(pattern)!.join() || this.closing) return;
      this.logger.log(`"${pattern}": topics changed, rejoining with ${wanted.length} topic(s)`);
      await consumer.stop();
      // Topics new to the group are read from their start: nothing sent before is skipped.
      await this.start(pattern, wanted, 'earliest');
    } catch (e) {
      this.logger.warn(`"${pattern}": could not refresh the topics: ${(e as Error).message}`);
    }
  }

  /** Leaves the groups; a batch in flight is not committed and is read again. */
  async close(): Promise<void> {
    this.closing = true;
    for (const timer of this.timers) clearInterval(timer);
    await Promise.all([...this.consumers.values()].map((c) => c.stop()));
  }

  /** Consumers stop before any provider's shutdown hook lets go of what handlers use. */
  onModuleDestroy(): Promise<void> {
    return this.close();
  }

  on(): never {
    throw new Error('BatchTransport has no events to listen to; read consumerStatus()');
  }

  unwrap<T>(): T {
    return this.consumers as T;
  }
}

/**
 * The service's kafkajs client (`@Inject(KAFKA)`) and its batch transport, named after the
 * service (the client id says who connects).
 */
@Module({})
export class KafkaModule {
  static forService(service: string): DynamicModule {
    return {
      module: KafkaModule,
      global: true,
      providers: [
        kafkaProvider(service),
        {
          provide: BatchTransport,
          inject: [KAFKA],
          useFactory: (k: Kafka) => new BatchTransport(k),
        },
      ],
      exports: [KAFKA, BatchTransport],
    };
  }
}
