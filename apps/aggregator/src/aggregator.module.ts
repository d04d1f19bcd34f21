import { Module } from '@nestjs/common';
import { ConfigModule } from '@app/config';
import { DatabaseModule } from '@app/database';
import { KafkaModule } from '@app/kafka';
import { MetricsController, ReferenceModule } from '@app/service';
import { SlicesModule } from './feeds/slices.module.js';
import { GroupsModule } from './groups/groups.module.js';
import { HealthController } from './health/health.controller.js';
import { KpisModule } from './kpis/kpis.module.js';

@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    KafkaModule.forService('aggregator'),
    ReferenceModule,
    GroupsModule,
    KpisModule,
    SlicesModule,
  ],
  controllers: [HealthController, MetricsController],
})
export class AggregatorModule {}
