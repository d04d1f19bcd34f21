import { Module } from '@nestjs/common';
import { KpiChangesController } from '../changes/kpi-changes.controller.js';
import { KpiReadService } from './kpi-read.service.js';
import { KpisController } from './kpis.controller.js';

/** The warehouse's reads: KPIs as they stand, and the change log since a cursor. */
@Module({
  controllers: [KpisController, KpiChangesController],
  providers: [KpiReadService],
  exports: [KpiReadService],
})
export class KpisModule {}
