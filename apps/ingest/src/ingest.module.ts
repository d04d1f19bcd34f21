import { MetricsController } from '@app/service';
import { Module } from '@nestjs/common';
import { AdminUnits, SourceRegistry } from '@app/catalogue';
import { HUB_CONFIG, type HubConfig, hubConfigProvider } from '@app/config';
import type { FeedRules } from '@app/contract';
import { kafkaProvider } from '@app/kafka';
import { FeedsConsumer } from './feeds/feeds.consumer.js';
import { NormaliseFeedsHandler } from './feeds/normalise-feeds.handler.js';
import { HealthController } from './health/health.controller.js';
import { FEED_RULES } from './ingest.tokens.js';

@Module({
  controllers: [HealthController, MetricsController],
  providers: [
    hubConfigProvider,
    kafkaProvider('ingest'),
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
