import { ADMIN_UNITS } from '@app/service';
import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Inject,
  Post,
  Query,
  Req,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { type AdminUnits, KPIS, normalisePlan } from '@app/catalogue';
import { DATA_SOURCE, TargetStore } from '@app/database';
import { IsIn, IsOptional, Matches } from 'class-validator';
import type { DataSource } from 'typeorm';
import { AdminLog } from '../access/admin-log.service.js';
import { Needs, type RequestWithPrincipal } from '../common/roles.guard.js';
import { PlansDto } from './plan.dto.js';
import { PlansLoaded, TargetList } from './plan.responses.js';

export class TargetsQueryDto {
  @ApiPropertyOptional({ example: '37' })
  @IsOptional()
  @Matches(/^\d{2}(\d|\d{3})?$/)
  area?: string;

  /** The boundary set of `area`: a target belongs to the unit it was set for. */
  @ApiPropertyOptional({ enum: ['2008', '2025'] })
  @IsOptional()
  @IsIn(['2008', '2025'])
  areaSet?: '2008' | '2025';

  @ApiPropertyOptional({ enum: Object.keys(KPIS) })
  @IsOptional()
  @IsIn(Object.keys(KPIS))
  kpi?: string;
}

/** Plan targets: loaded as data, shown against the KPIs. */
@ApiTags('plans')
@Controller('v1')
export class PlansController {
  constructor(
    private readonly store: TargetStore,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(ADMIN_UNITS) private readonly units: AdminUnits,
    private readonly log: AdminLog,
  ) {}

  @Get('targets')
  @ApiOperation({ summary: 'Plan targets by area and KPI' })
  @ApiOkResponse({ type: TargetList })
  async targets(@Query() q: TargetsQueryDto) {
    const items = await this.store.list(this.ds, q);
    return { count: items.length, items };
  }

  @Post('plans')
  @Needs('admin')
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Load plans (all or nothing); "%" on a per-100 target is fixed with a warning',
  })
  @ApiCreatedResponse({ type: PlansLoaded })
  async load(@Body() body: PlansDto, @Req() req: RequestWithPrincipal) {
    const results = body.plans.map((p) => normalisePlan(p, this.units));
    const errors = results.flatMap((r) => r.errors);
    if (errors.length) throw new BadRequestException({ message: 'plans not loaded', errors });
    const targets = results.flatMap((r) => r.targets);
    await this.store.upsert(this.ds, targets);
    await this.log.record(req, 'plans.load', null, {
      after: { plans: body.plans.map((p) => p.planId), targets: targets.length },
    });
    return { loaded: targets.length, warnings: results.flatMap((r) => r.warnings) };
  }
}
