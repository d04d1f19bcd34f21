import { MetricsController } from '@app/service';
import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_GUARD, APP_PIPE } from '@nestjs/core';
import { hubConfigProvider } from '@app/config';
import { DATA_SOURCE, dataSourceProvider } from '@app/database';
import type { DataSource } from 'typeorm';
import { HealthController } from './health/health.controller.js';
import { AdminUnits } from '@app/catalogue';
import { HUB_CONFIG, type HubConfig } from '@app/config';
import { ADMIN_UNITS } from './api.tokens.js';
import { CatalogueController } from './catalogue/catalogue.controller.js';
import { KpiChangesController } from './changes/kpi-changes.controller.js';
import { KpiReadService } from './kpis/kpi-read.service.js';
import { KpisController } from './kpis/kpis.controller.js';
import { RolesGuard } from './common/roles.guard.js';
import { BodyValidationPipe } from './common/body-validation.pipe.js';
import { PlansController } from './plans/plans.controller.js';
import { OpsController } from './ops/ops.controller.js';
import { DashboardController } from './dashboard/dashboard.controller.js';
import { kafkaProvider } from '@app/kafka';
import { AdminLog } from './access/admin-log.service.js';
import { TokensController } from './access/tokens.controller.js';
import { KafkaAccess } from './sources/kafka-access.service.js';
import { SourcesController } from './sources/sources.controller.js';
import { AuditController } from './audit/audit.controller.js';

@Module({
  controllers: [
    KpisController,
    KpiChangesController,
    CatalogueController,
    PlansController,
    OpsController,
    SourcesController,
    TokensController,
    AuditController,
    DashboardController,
    HealthController,
    MetricsController,
  ],
  providers: [
    hubConfigProvider,
    dataSourceProvider,
    kafkaProvider('api'),
    {
      provide: ADMIN_UNITS,
      inject: [HUB_CONFIG],
      useFactory: (c: HubConfig) => AdminUnits.load(c.ADMIN_UNITS_DIR),
    },
    KpiReadService,
    KafkaAccess,
    AdminLog,
    { provide: APP_GUARD, useClass: RolesGuard },
    {
      provide: APP_PIPE,
      useValue: new BodyValidationPipe(),
    },
  ],
})
export class ApiModule implements OnApplicationShutdown {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}
