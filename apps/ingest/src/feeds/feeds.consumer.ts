import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import type { AdminUnits } from '@app/catalogue';
import { HUB_CONFIG, type HubConfig } from '@app/config';
import { slicePlacement, sourceTopic, sourceTopicSpec, TOPIC_SPECS, TOPICS } from '@app/contract';
import { DATA_SOURCE, RegistryStore } from '@app/database';
import {
  BatchConsumer,
  createIdempotentProducer,
  ensureTopics,
  infrastructureProbe,
  KAFKA,
} from '@app/kafka';
import { exitFatally } from '@app/service';
import type { Kafka, Producer } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { ADMIN_UNITS } from '../ingest.tokens.js';
import { NormaliseFeedsHandler } from './normalise-feeds.handler.js';

/**
 * Consumes `lgsp.feeds.v1` and every registered source's own topic `lgsp.feeds.v1.<source>`
 * in batches, and hands each batch to the handler. A newly registered source's topic is
 * created and joined within SOURCE_TOPICS_REFRESH_MS.
 */
@Injectable()
export class FeedsConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger(FeedsConsumer.name);
  private readonly registry = new RegistryStore();
  private producer?: Producer;
  private topics: string[] = [];
  private refresh?: NodeJS.Timeout;
  private stopping = false;
  consumer?: BatchConsumer;

  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(ADMIN_UNITS) private readonly units: AdminUnits,
    private readonly handler: NormaliseFeedsHandler,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const created = await ensureTopics(this.kafka, TOPIC_SPECS);
    if (created.length) this.log.log(`created topics ${created.join(', ')}`);
    // Slices go to their group's partition of the balanced placement (made once per count).
    let table: { partitions: number; place: (group: string) => number } | undefined;
    const placement = (group: string, partitions: number): number => {
      if (table?.partitions !== partitions)
        table = { partitions, place: slicePlacement(this.units, partitions) };
      return table.place(group);
    };
    const producer = createIdempotentProducer(this.kafka, { [TOPICS.slices]: placement });
    await producer.connect();
    this.producer = producer;
    await this.subscribe(await this.wantedTopics(), this.config.CONSUMER_START);
    this.refresh = setInterval(
      () => void this.refreshTopics(),
      this.config.SOURCE_TOPICS_REFRESH_MS,
    );
    this.refresh.unref();
  }

  /**
   * The shared topic and one per registered source (suspended ones too: their feeds get a
   * reason). Only topics the consumer does not read yet are ensured: a refresh with no new
   * source is one registry query, no admin round trips.
   */
  private async wantedTopics(): Promise<string[]> {
    const sources = await this.registry.list(this.ds);
    const fresh = sources
      .map((s) => sourceTopicSpec(s.id))
      .filter((spec) => !this.topics.includes(spec.topic));
    if (fresh.length) {
      const created = await ensureTopics(this.kafka, fresh);
      if (created.length) this.log.log(`created source topics ${created.join(', ')}`);
    }
    return [TOPICS.feeds, ...sources.map((s) => sourceTopic(s.id))].sort();
  }

  private async subscribe(topics: string[], startAt: 'earliest' | 'latest'): Promise<void> {
    const consumer = new BatchConsumer(this.kafka, {
      groupId: this.config.INGEST_GROUP,
      topics,
      retries: this.config.BATCH_RETRIES,
      stallAfterMs: this.config.CONSUMER_STALL_SECONDS * 1_000,
      startAt,
      // Every feed of a fetch is parsed, sliced and re-serialised before any is let go.
      fetchBytes: 2 * 1024 * 1024,
      handler: (messages, { backlog }) => this.handler.handle(messages, this.producer!, backlog),
      quarantine: (message, error) => this.handler.quarantine(message, error, this.producer!),
      probe: infrastructureProbe(this.kafka, this.ds),
      onFatal: (e) => exitFatally('ingest', e),
    });
    await consumer.start();
    this.consumer = consumer;
    this.topics = topics;
    this.log.log(`consuming ${topics.length} topic(s) as group ${this.config.INGEST_GROUP}`);
  }

  private async refreshTopics(): Promise<void> {
    // A consumer still joining its group cannot leave it: stopped now, it would stay a member
    // until its session times out, and the next one's join would wait for that.
    if (this.stopping || !this.consumer?.status().running) return;
    try {
      const wanted = await this.wantedTopics();
      if (wanted.join() === this.topics.join() || this.stopping) return;
      this.log.log(`source topics changed: rejoining with ${wanted.length} topic(s)`);
      await this.consumer?.stop();
      // Topics new to the group are read from their start: nothing sent before is skipped.
      await this.subscribe(wanted, 'earliest');
    } catch (e) {
      this.log.warn(`could not refresh the source topics: ${(e as Error).message}`);
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.refresh);
    await this.consumer?.stop();
    await this.producer?.disconnect();
  }
}
