import { Module } from '@nestjs/common';
import { AdminUnits, SourceRegistry } from '@app/catalogue';
import { HUB_CONFIG, type HubConfig, loadConfig } from '@app/config';
import type { FeedRules } from '@app/contract';
import { createKafka } from '@app/kafka';
import { FeedsConsumer } from './feeds/feeds.consumer.js';
import { NormaliseFeedsHandler } from './feeds/normalise-feeds.handler.js';
import { HealthController } from './health/health.controller.js';
import { FEED_RULES, KAFKA } from './ingest.tokens.js';

@Module({
  controllers: [HealthController],
  providers: [
    { provide: HUB_CONFIG, useFactory: () => loadConfig() },
    {
      provide: KAFKA,
      inject: [HUB_CONFIG],
      useFactory: (c: HubConfig) => createKafka(`${c.KAFKA_CLIENT_ID}-ingest`, c.KAFKA_BROKERS),
    },
    {
      provide: FEED_RULES,
      inject: [HUB_CONFIG],
      useFactory: (c: HubConfig): FeedRules => ({
        units: AdminUnits.load(c.ADMIN_UNITS_DIR),
        registry: new SourceRegistry(),
      }),
    },
    NormaliseFeedsHandler,
    FeedsConsumer,
  ],
})
export class IngestModule {}
