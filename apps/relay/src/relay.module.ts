import { hubConfigProvider } from '@app/config';
import { DATA_SOURCE, dataSourceProvider } from '@app/database';
import { kafkaProvider } from '@app/kafka';
import { MetricsController } from '@app/service';
import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { HealthController } from './health/health.controller.js';
import { OutboxRelay } from './outbox/outbox-relay.service.js';

@Module({
  controllers: [HealthController, MetricsController],
  providers: [hubConfigProvider, kafkaProvider('relay'), dataSourceProvider, OutboxRelay],
})
export class RelayModule implements OnApplicationShutdown {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}
