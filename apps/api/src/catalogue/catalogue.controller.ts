import { ADMIN_UNITS } from '@app/service';
import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { type AdminUnits, KPI_NAMES, KPIS, MEASURES, UNIT_NAMES } from '@app/catalogue';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { AreaList, CatalogueView } from './catalogue.responses.js';

export class AreasQueryDto {
  /** `2008`: the 63-province lists (periods ending before 2025-07-01); `2025`: the 34-province lists. */
  @ApiPropertyOptional({ enum: ['2008', '2025'] })
  @IsOptional()
  @IsIn(['2008', '2025'])
  set?: '2008' | '2025';

  /** The same as `set`, by the name the KPI reads use. */
  @ApiPropertyOptional({ enum: ['2008', '2025'] })
  @IsOptional()
  @IsIn(['2008', '2025'])
  areaSet?: '2008' | '2025';

  @ApiPropertyOptional({ enum: ['province', 'district', 'commune'] })
  @IsOptional()
  @IsIn(['province', 'district', 'commune'])
  level?: 'province' | 'district' | 'commune';

  /** Only the units directly under this one. */
  @ApiPropertyOptional({ example: '37' })
  @IsOptional()
  @Matches(/^\d{2}(\d|\d{3})?$/)
  parent?: string;
}

@ApiTags('catalogue')
@Controller('v1')
export class CatalogueController {
  constructor(@Inject(ADMIN_UNITS) private readonly units: AdminUnits) {}

  @Get('catalogue')
  @ApiOperation({ summary: 'Measures and KPIs: formulas, units and semantics' })
  @ApiOkResponse({ type: CatalogueView })
  catalogue() {
    return {
      measures: Object.values(MEASURES).map((m) => ({
        code: m.code,
        description: m.description,
        kind: m.kind,
        overTime: m.time,
        reportedBy: m.reportedBy,
        acrossSources:
          m.kind === 'item_set' ? 'union' : m.kind === 'statistic' ? 'not combined' : 'sum',
      })),
      kpis: Object.values(KPIS).map((k) => ({
        code: k.code,
        names: KPI_NAMES[k.code],
        unitNames: UNIT_NAMES[k.unit],
        unit: k.unit,
        formula: k.formula,
        numerator: k.numerator,
        denominator: k.denominator ?? null,
        scale: k.scale,
      })),
    };
  }

  @Get('areas')
  @ApiOperation({ summary: 'Administrative units of both boundary sets' })
  @ApiOkResponse({ type: AreaList })
  areas(@Query() q: AreasQueryDto) {
    const items = this.units
      .all(q.areaSet ?? q.set)
      .filter((u) => (!q.level || u.level === q.level) && (!q.parent || u.parent === q.parent))
      .map((u) => ({
        set: u.bs,
        areaSet: u.bs,
        code: u.code,
        name: u.name,
        level: u.level,
        parent: u.parent ?? null,
        province: u.province,
        ...(u.level === 'province'
          ? u.bs === '2025'
            ? { formedFrom: this.units.oldProvincesOf(u.code).sort() }
            : { becameArea: this.units.newProvinceOf(u.code) ?? null }
          : {}),
      }));
    return { count: items.length, items };
  }
}
