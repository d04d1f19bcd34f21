import { Module } from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import { ConfigModule } from '@app/config';
import { DatabaseModule } from '@app/database';
import { KafkaModule } from '@app/kafka';
import { MetricsController, ReferenceModule } from '@app/service';
import { AccessModule } from './access/access.module.js';
import { ApprovalsModule } from './approvals/approvals.module.js';
import { CatalogueModule } from './catalogue/catalogue.module.js';
import { BodyValidationPipe } from './common/body-validation.pipe.js';
import { HealthController } from './health/health.controller.js';
import { KpisModule } from './kpis/kpis.module.js';
import { OpsModule } from './ops/ops.module.js';
import { ReportsModule } from './reports/reports.module.js';
import { SourcesModule } from './sources/sources.module.js';

@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    KafkaModule.forService('api'),
    ReferenceModule,
    AccessModule,
    KpisModule,
    ApprovalsModule,
    ReportsModule,
    CatalogueModule,
    SourcesModule,
    OpsModule,
  ],
  controllers: [HealthController, MetricsController],
  providers: [{ provide: APP_PIPE, useValue: new BodyValidationPipe() }],
})
export class ApiModule {}
