import { MetricsController } from '@app/service';
import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { AdminUnits, type AggregationContext, SourceRegistry } from '@app/catalogue';
import { HUB_CONFIG, type HubConfig, hubConfigProvider } from '@app/config';
import { DATA_SOURCE, dataSourceProvider } from '@app/database';
import { kafkaProvider } from '@app/kafka';
import type { DataSource } from 'typeorm';
import { AGGREGATION_CONTEXT } from './aggregator.tokens.js';
import { AcceptedFeedsConsumer } from './feeds/accepted-feeds.consumer.js';
import { ApplyFeedsHandler } from './feeds/apply-feeds.handler.js';
import { HealthController } from './health/health.controller.js';
import { OutboxRelay } from './outbox/outbox-relay.service.js';

@Module({
  controllers: [HealthController, MetricsController],
  providers: [
    hubConfigProvider,
    kafkaProvider('aggregator'),
    dataSourceProvider,
    {
      provide: AGGREGATION_CONTEXT,
      inject: [HUB_CONFIG],
      useFactory: (c: HubConfig): AggregationContext => ({
        units: AdminUnits.load(c.ADMIN_UNITS_DIR),
        registry: new SourceRegistry(),
      }),
    },
    ApplyFeedsHandler,
    OutboxRelay,
    AcceptedFeedsConsumer,
  ],
})
export class AggregatorModule implements OnApplicationShutdown {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}
