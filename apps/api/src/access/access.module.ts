import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { RolesGuard } from '../common/roles.guard.js';
import { AdminLog } from './admin-log.service.js';
import { TokensController } from './tokens.controller.js';

/** Who may do what: named tokens, the roles guard on every route, and the admin-action log. */
@Global()
@Module({
  controllers: [TokensController],
  providers: [AdminLog, { provide: APP_GUARD, useClass: RolesGuard }],
  exports: [AdminLog],
})
export class AccessModule {}
