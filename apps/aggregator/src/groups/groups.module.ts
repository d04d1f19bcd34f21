import { Module } from '@nestjs/common';
import { GroupLayouts } from '@app/aggregation';
import type { AdminUnits } from '@app/catalogue';
import { ADMIN_UNITS } from '@app/service';
import { AGGREGATOR_CONTEXT, type AggregatorContext } from '../aggregator.tokens.js';
import { GroupCache } from './group-cache.service.js';
import { Serial } from './serial.js';

/** The aggregation groups: their layouts, the states held in memory, one writer at a time. */
@Module({
  providers: [
    {
      provide: AGGREGATOR_CONTEXT,
      inject: [ADMIN_UNITS],
      useFactory: (units: AdminUnits): AggregatorContext => ({
        units,
        layouts: new GroupLayouts(units),
      }),
    },
    { provide: Serial, useValue: new Serial() },
    GroupCache,
  ],
  exports: [AGGREGATOR_CONTEXT, Serial, GroupCache],
})
export class GroupsModule {}
