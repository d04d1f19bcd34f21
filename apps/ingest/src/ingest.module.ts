import { Module } from '@nestjs/common';
import { ConfigModule } from '@app/config';
import { DatabaseModule } from '@app/database';
import { KafkaModule } from '@app/kafka';
import { MetricsController, ReferenceModule } from '@app/service';
import { FeedsModule } from './feeds/feeds.module.js';
import { HealthController } from './health/health.controller.js';
import { HttpFeedsModule } from './http/http-feeds.module.js';

@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    KafkaModule.forService('ingest'),
    ReferenceModule,
    FeedsModule,
    HttpFeedsModule,
  ],
  controllers: [HealthController, MetricsController],
})
export class IngestModule {}
