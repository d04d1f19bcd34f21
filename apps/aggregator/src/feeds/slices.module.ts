import { Module } from '@nestjs/common';
import { GroupsModule } from '../groups/groups.module.js';
import { KpisModule } from '../kpis/kpis.module.js';
import { ApplySlicesHandler } from './apply-slices.handler.js';
import { FeedSlicesController } from './feed-slices.controller.js';

/** Feed slices from Kafka, applied to their groups' state in one transaction per batch. */
@Module({
  imports: [GroupsModule, KpisModule],
  controllers: [FeedSlicesController],
  providers: [ApplySlicesHandler],
  exports: [ApplySlicesHandler],
})
export class SlicesModule {}
