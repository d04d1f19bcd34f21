import {
  Controller,
  Inject,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  UseFilters,
} from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { AdminUnits } from '@app/catalogue';
import { HUB_CONFIG, type HubConfig } from '@app/config';
import { slicePlacement, sourceTopic, sourceTopicSpec, TOPIC_SPECS, TOPICS } from '@app/contract';
import { DATA_SOURCE, RegistryStore } from '@app/database';
import {
  BatchContext,
  BatchTransport,
  type ConsumedMessage,
  createIdempotentProducer,
  ensureTopics,
  infrastructureProbe,
  KAFKA,
  KeepBatchErrors,
  setAsidePattern,
  type SetAsideRecord,
} from '@app/kafka';
import { ADMIN_UNITS, exitFatally } from '@app/service';
import type { Kafka, Producer } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { NormaliseFeedsHandler } from './normalise-feeds.handler.js';

/** The batch transport's name for the raw feeds the ingest reads. */
export const FEEDS = 'feeds';

/**
 * Reads `lgsp.feeds.v1` and every registered source's own topic `lgsp.feeds.v1.<source>` in
 * batches (on the BatchTransport) and hands each to the handler. A newly registered source's
 * topic is created and joined within SOURCE_TOPICS_REFRESH_MS.
 */
@Controller()
@UseFilters(KeepBatchErrors)
export class FeedsController implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(FeedsController.name);
  private producer?: Producer;
  /** Source topics known to exist (ensured once each). */
  private readonly ensured = new Set<string>();

  constructor(
    private readonly registry: RegistryStore,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(ADMIN_UNITS) private readonly units: AdminUnits,
    private readonly handler: NormaliseFeedsHandler,
    private readonly transport: BatchTransport,
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
    this.transport.subscribe(FEEDS, {
      groupId: this.config.INGEST_GROUP,
      topics: () => this.wantedTopics(),
      refreshTopicsMs: this.config.SOURCE_TOPICS_REFRESH_MS,
      retries: this.config.BATCH_RETRIES,
      stallAfterMs: this.config.CONSUMER_STALL_SECONDS * 1_000,
      startAt: this.config.CONSUMER_START,
      // Every feed of a fetch is parsed, sliced and re-serialised before any is let go.
      fetchBytes: 2 * 1024 * 1024,
      probe: infrastructureProbe(this.kafka, this.ds),
      onFatal: (e) => exitFatally('ingest', e),
    });
  }

  // `<string>` picks the untyped overload: the typed one does not let a handler type @Ctx().
  @EventPattern<string>(FEEDS)
  normalise(@Payload() messages: ConsumedMessage[], @Ctx() ctx: BatchContext): Promise<void> {
    return this.handler.handle(messages, this.producer!, ctx.hasBacklog());
  }

  @EventPattern<string>(setAsidePattern(FEEDS))
  setAside(@Payload() { message, error }: SetAsideRecord): Promise<void> {
    return this.handler.quarantine(message, error, this.producer!);
  }

  /**
   * The shared topic and one per registered source (suspended ones too: their feeds get a
   * reason). Only topics not ensured yet are: a refresh with no new source is one registry
   * query, no admin round trips.
   */
  private async wantedTopics(): Promise<string[]> {
    const sources = await this.registry.list(this.ds);
    const fresh = sources
      .map((s) => sourceTopicSpec(s.id))
      .filter((spec) => !this.ensured.has(spec.topic));
    if (fresh.length) {
      const created = await ensureTopics(this.kafka, fresh);
      if (created.length) this.log.log(`created source topics ${created.join(', ')}`);
      for (const spec of fresh) this.ensured.add(spec.topic);
    }
    return [TOPICS.feeds, ...sources.map((s) => sourceTopic(s.id))];
  }

  /** After the transport has left its group (it stops at module destroy). */
  async onApplicationShutdown(): Promise<void> {
    await this.producer?.disconnect();
  }
}
