import { Module } from '@nestjs/common';
import { AuditController } from '../audit/audit.controller.js';
import { DashboardController } from '../dashboard/dashboard.controller.js';
import { OpsController } from './ops.controller.js';

/** For the ops team: pipeline state, the audit log and DLQ with replay, the dashboard. */
@Module({ controllers: [OpsController, AuditController, DashboardController] })
export class OpsModule {}
