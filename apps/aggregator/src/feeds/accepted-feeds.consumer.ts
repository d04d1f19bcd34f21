import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { HUB_CONFIG, type HubConfig } from '@app/config';
import {
  ACCEPTED_FEED_SCHEMA,
  type AcceptedFeed,
  DLQ_HEADERS,
  HubError,
  TOPIC_SPECS,
  TOPICS,
} from '@app/contract';
import {
  BatchConsumer,
  type ConsumedMessage,
  createIdempotentProducer,
  ensureTopics,
  KAFKA,
} from '@app/kafka';
import { AuditStore, DATA_SOURCE } from '@app/database';
import { exitFatally, METRICS } from '@app/service';
import type { Kafka, Producer } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { OutboxRelay } from '../outbox/outbox-relay.service.js';
import { ApplyFeedsHandler } from './apply-feeds.handler.js';

/**
 * Consumes accepted feeds in batches: one transaction per batch, offsets committed after it.
 * A batch that fails for a non-transient reason is split to find the record at fault, which
 * goes to the DLQ with the reason; the others are applied. No record blocks a partition.
 */
@Injectable()
export class AcceptedFeedsConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger(AcceptedFeedsConsumer.name);
  private producer?: Producer;
  private readonly audit = new AuditStore();
  consumer?: BatchConsumer;
  readonly counters = { feeds: 0, duplicates: 0, events: 0, quarantined: 0 };

  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    private readonly handler: ApplyFeedsHandler,
    private readonly relay: OutboxRelay,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await ensureTopics(this.kafka, TOPIC_SPECS);
    this.producer = createIdempotentProducer(this.kafka);
    await this.producer.connect();
    this.consumer = new BatchConsumer(this.kafka, {
      groupId: this.config.AGGREGATOR_GROUP,
      topics: [TOPICS.accepted],
      retries: this.config.BATCH_RETRIES,
      stallAfterMs: this.config.CONSUMER_STALL_SECONDS * 1_000,
      startAt: this.config.CONSUMER_START,
      handler: (messages) => this.handle(messages),
      onFatal: (e) => exitFatally('aggregator', e),
    });
    await this.consumer.start();
    this.log.log(`consuming ${TOPICS.accepted} as group ${this.config.AGGREGATOR_GROUP}`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
    await this.producer?.disconnect();
  }

  private async handle(messages: readonly ConsumedMessage[]): Promise<void> {
    const parsed: { m: ConsumedMessage; feed: AcceptedFeed }[] = [];
    for (const m of messages) {
      const feed = parse(m);
      if (feed) parsed.push({ m, feed });
      else await this.quarantine(m, 'UNREADABLE_ACCEPTED_FEED', 'not an accepted feed record');
    }
    try {
      await this.applyAll(parsed.map((p) => p.feed));
    } catch (e) {
      if (!(e instanceof HubError) || e.retriable || parsed.length === 0) throw e;
      this.log.error(`batch of ${parsed.length} failed (${e.message}): applying one by one`);
      for (const { m, feed } of parsed) {
        try {
          await this.applyAll([feed]);
        } catch (one) {
          if (!(one instanceof HubError) || one.retriable) throw one;
          await this.quarantine(m, one.code, one.message, feed);
        }
      }
    }
  }

  private async applyAll(feeds: AcceptedFeed[]): Promise<void> {
    if (feeds.length === 0) return;
    const r = await this.handler.apply(feeds);
    this.counters.feeds += r.feeds;
    this.counters.duplicates += r.duplicates;
    this.counters.events += r.events;
    METRICS.feedsConsumed.inc({ service: 'aggregator' }, r.feeds);
    METRICS.feedsDuplicate.inc(r.duplicates);
    METRICS.kpiEventsWritten.inc(r.events);
    if (r.events > 0) this.relay.wake();
    this.log.debug?.(
      `applied ${r.newFeeds} feed(s) (${r.duplicates} duplicate), ${r.observationsChanged} observation(s) changed, ${r.keysRecomputed} key(s) recomputed, ${r.events} event(s)`,
    );
  }

  private async quarantine(
    m: ConsumedMessage,
    code: string,
    reason: string,
    feed?: AcceptedFeed,
  ): Promise<void> {
    this.counters.quarantined++;
    METRICS.feedsRejected.inc({ service: 'aggregator', code });
    this.log.error({
      message: `quarantined to ${TOPICS.dlq}: ${reason}`,
      topic: m.topic,
      partition: m.partition,
      offset: m.offset,
      source: feed?.source,
      feedId: feed?.feedId,
    });
    const errors = [{ code, path: '', message: reason }];
    const exchangeId = feed?.origin.exchangeId ?? null;
    await this.audit.addToDlq(this.ds, [
      {
        exchangeId,
        source: feed?.source ?? m.key ?? null,
        feedId: feed?.feedId ?? null,
        topic: m.topic,
        key: m.key ?? null,
        payload: m.value ?? Buffer.alloc(0),
        replayable: feed !== undefined,
        errorCode: code,
        errors,
        rejectedBy: 'aggregator',
      },
    ]);
    if (exchangeId)
      await this.audit.decide(this.ds, [{ exchangeId, outcome: 'rejected', kpiKeys: [] }]);
    await this.producer!.send({
      topic: TOPICS.dlq,
      acks: -1,
      messages: [
        {
          key: m.key ?? null,
          value: m.value,
          headers: {
            [DLQ_HEADERS.errorCode]: code,
            [DLQ_HEADERS.errors]: JSON.stringify(errors),
            [DLQ_HEADERS.sourceTopic]: m.topic,
            [DLQ_HEADERS.sourcePartition]: String(m.partition),
            [DLQ_HEADERS.sourceOffset]: m.offset,
            [DLQ_HEADERS.rejectedAt]: new Date().toISOString(),
            [DLQ_HEADERS.rejectedBy]: 'aggregator',
          },
        },
      ],
    });
  }
}

function parse(m: ConsumedMessage): AcceptedFeed | undefined {
  try {
    const f = JSON.parse(m.value?.toString('utf8') ?? '') as AcceptedFeed;
    return f?.schema === ACCEPTED_FEED_SCHEMA && Array.isArray(f.observations) ? f : undefined;
  } catch {
    return undefined;
  }
}
