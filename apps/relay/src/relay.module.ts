import { Module } from '@nestjs/common';
import { ConfigModule } from '@app/config';
import { DatabaseModule } from '@app/database';
import { KafkaModule } from '@app/kafka';
import { MetricsController } from '@app/service';
import { HealthController } from './health/health.controller.js';
import { OutboxRelay } from './outbox/outbox-relay.service.js';

@Module({
  imports: [ConfigModule, DatabaseModule, KafkaModule.forService('relay')],
  controllers: [HealthController, MetricsController],
  providers: [OutboxRelay],
})
export class RelayModule {}
