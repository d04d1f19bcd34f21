import { Module } from '@nestjs/common';
import { GroupsModule } from '../groups/groups.module.js';
import { KpiPublisher } from './kpi-publisher.service.js';
import { PublishKpisHandler } from './publish-kpis.handler.js';

/** Publishing: when the keys a batch moved are evaluated and written to the outbox. */
@Module({
  imports: [GroupsModule],
  providers: [PublishKpisHandler, KpiPublisher],
  exports: [KpiPublisher],
})
export class KpisModule {}
