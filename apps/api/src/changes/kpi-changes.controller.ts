import { ADMIN_UNITS } from '@app/service';
import { BadRequestException, Controller, Get, Inject, Query, Req } from '@nestjs/common';
import type { AdminUnits } from '@app/catalogue';
import { ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import type { KpiEvent } from '@app/contract';
import { DATA_SOURCE, KpiStore } from '@app/database';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import type { DataSource } from 'typeorm';
import { readScope } from '../common/read-scope.js';
import { Needs, type RequestWithPrincipal } from '../common/roles.guard.js';
import { KpiChangesPage } from '../kpis/kpi.responses.js';

export class KpiChangesQueryDto {
  /** The cursor of the previous call (`next`); `0` or absent for the beginning. */
  @ApiPropertyOptional({ example: '0' })
  @IsOptional()
  @Matches(/^\d{1,18}$/, { message: 'after must be a cursor returned as next' })
  after?: string;

  @ApiPropertyOptional({ example: 1000, minimum: 1, maximum: 10000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000)
  limit?: number;

  /**
   * `published` (default): revisions of lgsp.kpi.v1. `rebased`: those of lgsp.kpi.rebased.v1
   * (the 2025 provinces before the reform), whose keys reuse codes of the 2008 lists: keep
   * them apart, by `basis` or by `areaSet`.
   */
  @ApiPropertyOptional({ enum: ['published', 'rebased'] })
  @IsOptional()
  @IsIn(['published', 'rebased'], { message: 'basis must be published or rebased' })
  basis?: 'published' | 'rebased';

  /**
   * `true`: official figures only, those of periods their province approved (issue 27); the
   * figure is the approved one, a later computation is `pending`.
   */
  @ApiPropertyOptional({ enum: ['true', 'false'] })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'official must be true or false' })
  official?: 'true' | 'false';
}

/**
 * Every published KPI revision in commit order, from a cursor: a warehouse stores `next` and
 * asks again next run, and never misses or repeats a change (ids follow commit order).
 */
@ApiTags('kpis')
@Controller('v1/kpi-changes')
@Needs('read')
export class KpiChangesController {
  constructor(
    private readonly kpis: KpiStore,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(ADMIN_UNITS) private readonly units: AdminUnits,
  ) {}

  @Get()
  @ApiOperation({ summary: 'KPI changes after a cursor (incremental load)' })
  @ApiOkResponse({ type: KpiChangesPage })
  async changes(@Query() q: KpiChangesQueryDto, @Req() req: RequestWithPrincipal) {
    const scope = readScope(this.units, req);
    if (q.official === 'true' && q.basis === 'rebased')
      throw new BadRequestException('re-based history is never official: drop basis or official');
    const limit = q.limit ?? 1_000;
    const after = q.after ?? '0';
    if (BigInt(after) > 9_223_372_036_854_775_807n)
      throw new BadRequestException('after is out of range');
    const rows = await this.kpis.changes(this.ds, after, limit + 1, {
      rebased: q.basis === 'rebased',
      official: q.official === 'true',
    });
    const page = rows.slice(0, limit);
    const items = page.map((r) => JSON.parse(r.payload) as KpiEvent);
    // A reader limited to some provinces gets their changes only; the cursor moves past all.
    return {
      items: scope ? items.filter((e) => scope.covers(e)) : items,
      next: page.at(-1)?.id ?? after,
      more: rows.length > limit,
    };
  }
}
