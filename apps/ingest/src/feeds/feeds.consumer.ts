import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { HUB_CONFIG, type HubConfig } from '@app/config';
import { TOPIC_SPECS, TOPICS } from '@app/contract';
import { BatchConsumer, createIdempotentProducer, ensureTopics, KAFKA } from '@app/kafka';
import { exitFatally } from '@app/service';
import type { Kafka, Producer } from 'kafkajs';
import { NormaliseFeedsHandler } from './normalise-feeds.handler.js';

/** Consumes `lgsp.feeds.v1` in batches and hands each batch to the handler. */
@Injectable()
export class FeedsConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger(FeedsConsumer.name);
  private producer?: Producer;
  consumer?: BatchConsumer;

  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    private readonly handler: NormaliseFeedsHandler,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const created = await ensureTopics(this.kafka, TOPIC_SPECS);
    if (created.length) this.log.log(`created topics ${created.join(', ')}`);
    const producer = createIdempotentProducer(this.kafka);
    await producer.connect();
    this.producer = producer;
    this.consumer = new BatchConsumer(this.kafka, {
      groupId: this.config.INGEST_GROUP,
      topics: [TOPICS.feeds],
      retries: this.config.BATCH_RETRIES,
      stallAfterMs: this.config.CONSUMER_STALL_SECONDS * 1_000,
      startAt: this.config.CONSUMER_START,
      handler: (messages) => this.handler.handle(messages, producer),
      onFatal: (e) => exitFatally('ingest', e),
    });
    await this.consumer.start();
    this.log.log(`consuming ${TOPICS.feeds} as group ${this.config.INGEST_GROUP}`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
    await this.producer?.disconnect();
  }
}
