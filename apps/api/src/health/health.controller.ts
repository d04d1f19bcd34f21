import { DATA_SOURCE } from '@app/database';
import { Controller, Get, Inject } from '@nestjs/common';
import { databaseCheck, type HealthReport, healthReport } from '@app/service';
import type { DataSource } from 'typeorm';

@Controller()
export class HealthController {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  /** 200 when the database answers; 503 with the reason otherwise. */
  @Get('health')
  health(): Promise<HealthReport> {
    return healthReport('api', { database: () => databaseCheck((sql) => this.ds.query(sql)) });
  }
}
