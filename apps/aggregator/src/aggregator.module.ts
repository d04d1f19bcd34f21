import { GroupLayouts } from '@app/aggregation';
import { AdminUnits } from '@app/catalogue';
import { HUB_CONFIG, type HubConfig, hubConfigProvider } from '@app/config';
import { DATA_SOURCE, dataSourceProvider } from '@app/database';
import { kafkaProvider } from '@app/kafka';
import { MetricsController } from '@app/service';
import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { AGGREGATOR_CONTEXT, type AggregatorContext } from './aggregator.tokens.js';
import { ApplySlicesHandler } from './feeds/apply-slices.handler.js';
import { FeedSlicesConsumer } from './feeds/feed-slices.consumer.js';
import { GroupCache } from './groups/group-cache.service.js';
import { Serial } from './groups/serial.js';
import { HealthController } from './health/health.controller.js';
import { KpiPublisher } from './kpis/kpi-publisher.service.js';
import { PublishKpisHandler } from './kpis/publish-kpis.handler.js';

@Module({
  controllers: [HealthController, MetricsController],
  providers: [
    hubConfigProvider,
    kafkaProvider('aggregator'),
    dataSourceProvider,
    {
      provide: AGGREGATOR_CONTEXT,
      inject: [HUB_CONFIG],
      useFactory: (c: HubConfig): AggregatorContext => {
        const units = AdminUnits.load(c.ADMIN_UNITS_DIR);
        return { units, layouts: new GroupLayouts(units) };
      },
    },
    { provide: Serial, useValue: new Serial() },
    GroupCache,
    ApplySlicesHandler,
    PublishKpisHandler,
    KpiPublisher,
    FeedSlicesConsumer,
  ],
})
export class AggregatorModule implements OnApplicationShutdown {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}
