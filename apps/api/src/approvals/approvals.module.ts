import { Module } from '@nestjs/common';
import { ApprovalService } from './approval.service.js';
import { ApprovalsController } from './approvals.controller.js';

/** Review and approval of provinces' figures, per period (issue 27). */
@Module({
  controllers: [ApprovalsController],
  providers: [ApprovalService],
  exports: [ApprovalService],
})
export class ApprovalsModule {}
