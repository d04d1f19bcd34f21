import { type AdminUnits, boundarySetOf, mustParsePeriod } from '@app/catalogue';
import { APPROVAL_ACTIONS, type ApprovalAction, PERIOD_PATTERN } from '@app/contract';
import { ApprovalStore, DATA_SOURCE } from '@app/database';
import { ADMIN_UNITS } from '@app/service';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import type { DataSource } from 'typeorm';
import { readScope } from '../common/read-scope.js';
import { Needs, type RequestWithPrincipal } from '../common/roles.guard.js';
import { ApprovalList, ApprovalMoved } from './approval.responses.js';
import { ApprovalService } from './approval.service.js';

const PERIOD_MESSAGE = 'period must be YYYY, YYYY-H1|H2, YYYY-Q1..Q4 or YYYY-MM';

export class ApprovalParams {
  /** A province's code in the lists of the period (2008 before 2025-07-01, 2025 after). */
  @ApiProperty({ example: '11' })
  @Matches(/^\d{2}$/, { message: 'area must be a province: 2 digits' })
  area!: string;

  @ApiProperty({ example: '2024-Q1' })
  @Matches(PERIOD_PATTERN, { message: PERIOD_MESSAGE })
  period!: string;

  @ApiProperty({ enum: APPROVAL_ACTIONS })
  @IsIn(APPROVAL_ACTIONS, { message: `action must be one of ${APPROVAL_ACTIONS.join(', ')}` })
  action!: ApprovalAction;
}

export class ApprovalBody {
  /** Why: required to return or re-open. */
  @ApiPropertyOptional({ example: 'Viettel corrected March' })
  @IsOptional()
  @IsString()
  @Length(1, 2000)
  reason?: string;
}

export class ApprovalQuery {
  @ApiPropertyOptional({ example: '11' })
  @IsOptional()
  @Matches(/^\d{2}$/, { message: 'area must be a province: 2 digits' })
  area?: string;

  @ApiPropertyOptional({ example: '2024-H1' })
  @IsOptional()
  @Matches(PERIOD_PATTERN, { message: PERIOD_MESSAGE })
  period?: string;

  @ApiPropertyOptional({ enum: ['2008', '2025'] })
  @IsOptional()
  @IsIn(['2008', '2025'], { message: 'areaSet must be 2008 or 2025' })
  areaSet?: '2008' | '2025';
}

/**
 * Review and approval of a province's figures per period (issue 27): `open` -> `submit` ->
 * `submitted` -> `approve` -> `approved`; `return` (submitted) and `reopen` (approved) go back
 * to `open` with a reason. Approving a period approves those it is built from.
 */
@ApiTags('approvals')
@Controller('v1/approvals')
export class ApprovalsController {
  private readonly store = new ApprovalStore();

  constructor(
    private readonly approvals: ApprovalService,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(ADMIN_UNITS) private readonly units: AdminUnits,
  ) {}

  @Get()
  @Needs('read')
  @ApiOperation({
    summary: 'Approval states of provinces and periods that were ever moved (others are open)',
  })
  @ApiOkResponse({ type: ApprovalList })
  async list(@Query() q: ApprovalQuery, @Req() req: RequestWithPrincipal) {
    const scope = readScope(this.units, req);
    const bs = q.areaSet ?? (q.period ? boundarySetOf(mustParsePeriod(q.period)) : undefined);
    const rows = await this.store.list(this.ds, {
      ...(bs ? { bs } : {}),
      ...(q.area ? { area: q.area } : {}),
      ...(q.period ? { period: q.period } : {}),
      groups: scope ? scope.provinces : null,
      limit: 10_000,
    });
    return {
      items: rows.map((r) => ({
        areaSet: r.bs,
        area: r.area,
        areaName: this.units.get(r.bs, r.area)?.name ?? r.area,
        period: r.period,
        state: r.state,
        by: r.by,
        at: r.at,
        ...(r.via !== r.period ? { via: r.via } : {}),
        ...(r.reason ? { reason: r.reason } : {}),
      })),
    };
  }

  @Post(':area/:period/:action')
  @HttpCode(200)
  @Needs('approver')
  @ApiOperation({
    summary: "Submit, approve, return or re-open a province's period (an approver of it)",
    description:
      'Approving makes the figures as they stand official: a later correction is computed and held as pending until the period is re-opened and approved again. Every move re-publishes the keys of the province and its units in the period (and those it is built from) with their approval, and is in the admin log.',
  })
  @ApiOkResponse({ type: ApprovalMoved })
  async move(
    @Param() p: ApprovalParams,
    @Body() body: ApprovalBody,
    @Req() req: RequestWithPrincipal,
  ) {
    return this.approvals.move(req.principal!, p.area, p.period, p.action, body.reason);
  }
}
