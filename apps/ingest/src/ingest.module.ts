import { MetricsController } from '@app/service';
import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { AdminUnits } from '@app/catalogue';
import { HUB_CONFIG, type HubConfig, hubConfigProvider } from '@app/config';
import { DATA_SOURCE, dataSourceProvider } from '@app/database';
import { kafkaProvider } from '@app/kafka';
import type { DataSource } from 'typeorm';
import { FeedsConsumer } from './feeds/feeds.consumer.js';
import { NormaliseFeedsHandler } from './feeds/normalise-feeds.handler.js';
import { HealthController } from './health/health.controller.js';
import { FeedPublisher } from './http/feed-publisher.js';
import { FeedsHttpController } from './http/feeds-http.controller.js';
import { ADMIN_UNITS } from './ingest.tokens.js';

@Module({
  controllers: [FeedsHttpController, HealthController, MetricsController],
  providers: [
    hubConfigProvider,
    kafkaProvider('ingest'),
    dataSourceProvider,
    {
      provide: ADMIN_UNITS,
      inject: [HUB_CONFIG],
      useFactory: (c: HubConfig) => AdminUnits.load(c.ADMIN_UNITS_DIR),
    },
    NormaliseFeedsHandler,
    FeedPublisher,
    FeedsConsumer,
  ],
})
export class IngestModule implements OnApplicationShutdown {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}
