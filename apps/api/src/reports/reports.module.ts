import { Module } from '@nestjs/common';
import { KpisModule } from '../kpis/kpis.module.js';
import { ReportService } from './report.service.js';
import { ReportsController } from './reports.controller.js';

/** Provinces' periodic reports, from the query API's figures. */
@Module({
  imports: [KpisModule],
  controllers: [ReportsController],
  providers: [ReportService],
})
export class ReportsModule {}
