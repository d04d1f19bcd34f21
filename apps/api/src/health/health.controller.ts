import { DATA_SOURCE } from '@app/database';
import { Controller, Get, Inject } from '@nestjs/common';
import { databaseCheck, type HealthReport, healthReport, HealthResponses } from '@app/service';
import type { DataSource } from 'typeorm';

@Controller()
export class HealthController {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  /** Liveness: the process answers (a database outage makes it not ready, not dead). */
  @Get('health/live')
  @HealthResponses()
  live(): Promise<HealthReport> {
    return healthReport('api', {});
  }

  /** Readiness: 200 when the database answers; 503 with the reason otherwise. */
  @Get(['health', 'health/ready'])
  @HealthResponses()
  health(): Promise<HealthReport> {
    return healthReport('api', { database: () => databaseCheck((sql) => this.ds.query(sql)) });
  }
}
