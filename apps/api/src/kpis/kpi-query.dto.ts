import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { KPIS } from '@app/catalogue';
import { PERIOD_PATTERN } from '@app/contract';

const AREA = /^\d{2}(\d|\d{3})?$/;
const AREA_MESSAGE = 'area must be a 2, 3 or 5 digit statistics office code';
const PERIOD_MESSAGE = 'period must be YYYY, YYYY-H1|H2, YYYY-Q1..Q4 or YYYY-MM';
const KPI_MESSAGE = `kpi must be one of ${Object.keys(KPIS).join(', ')}`;
const AREA_SET_MESSAGE =
  'areaSet must be 2008 (the 63-province lists) or 2025 (the 34-province lists)';
const BASIS_MESSAGE =
  'basis must be published (figures in the boundaries of their period) or rebased (2025 provinces before the reform)';

/** The `areaSet` and `basis` parameters, shared by the KPI reads. */
class UnitQuery {
  /**
   * The boundary set `area` is a code of: `(areaSet, area)` names one unit (codes were reused in
   * 2025). Absent: any unit with that code (a series: the unit the code names today).
   */
  @ApiPropertyOptional({ enum: ['2008', '2025'] })
  @IsOptional()
  @IsIn(['2008', '2025'], { message: AREA_SET_MESSAGE })
  areaSet?: '2008' | '2025';

  /**
   * `published` (default): each figure in the boundaries of its period. `rebased`: the 2025
   * provinces' figures for periods before the reform (lgsp.kpi.rebased.v1); for a series,
   * those and the later figures as published.
   */
  @ApiPropertyOptional({ enum: ['published', 'rebased'] })
  @IsOptional()
  @IsIn(['published', 'rebased'], { message: BASIS_MESSAGE })
  basis?: 'published' | 'rebased';
}

/** `GET /v1/kpis`: each filter optional; all given ones must match. */
export class KpiQueryDto extends UnitQuery {
  /** Statistics office code of the area (province 2 digits, district 3, commune 5). */
  @ApiPropertyOptional({ example: '37' })
  @IsOptional()
  @Matches(AREA, { message: AREA_MESSAGE })
  area?: string;

  /** `YYYY`, `YYYY-H1`, `YYYY-Q2`, `YYYY-06`. */
  @ApiPropertyOptional({ example: '2023-H1' })
  @IsOptional()
  @Matches(PERIOD_PATTERN, { message: PERIOD_MESSAGE })
  period?: string;

  @ApiPropertyOptional({ enum: Object.keys(KPIS) })
  @IsOptional()
  @IsIn(Object.keys(KPIS), { message: KPI_MESSAGE })
  kpi?: string;

  /** Only areas of this level (a national view: `province`, with `areaSet=2025`). */
  @ApiPropertyOptional({ enum: ['province', 'district', 'commune'] })
  @IsOptional()
  @IsIn(['province', 'district', 'commune'])
  level?: 'province' | 'district' | 'commune';

  /**
   * `true`: official figures only, those of periods their province approved (issue 27); the
   * figure is the approved one, a later computation is `pending`.
   */
  @ApiPropertyOptional({ enum: ['true', 'false'] })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'official must be true or false' })
  official?: 'true' | 'false';

  /** `json` (default) or `csv`. */
  @ApiPropertyOptional({ enum: ['json', 'csv'] })
  @IsOptional()
  @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';

  /** Items per page, 1 to 10,000 (the default). */
  @ApiPropertyOptional({ example: '1000' })
  @IsOptional()
  @Matches(/^(?:[1-9]\d{0,3}|10000)$/, { message: 'limit must be a whole number from 1 to 10000' })
  limit?: string;

  /** The `next` cursor of the previous page; absent for the first page. */
  @ApiPropertyOptional({ example: '37|2024-Q2|MBB_SUB_P100' })
  @IsOptional()
  @Matches(/^[0-9A-Za-z_|-]{1,64}$/, { message: 'after must be a cursor returned as next' })
  after?: string;
}

/** `GET /v1/kpis/series`: one KPI of one unit over time. */
export class KpiSeriesQueryDto extends UnitQuery {
  @ApiProperty({ enum: Object.keys(KPIS) })
  @IsIn(Object.keys(KPIS), { message: KPI_MESSAGE })
  kpi!: string;

  @ApiProperty({ example: '37' })
  @Matches(AREA, { message: AREA_MESSAGE })
  area!: string;

  /** Only periods of this kind; all kinds when absent. */
  @ApiPropertyOptional({ enum: ['month', 'quarter', 'half', 'year'] })
  @IsOptional()
  @IsIn(['month', 'quarter', 'half', 'year'])
  granularity?: 'month' | 'quarter' | 'half' | 'year';

  /** First and last year, inclusive. */
  @ApiPropertyOptional({ example: '2023' })
  @IsOptional()
  @Matches(/^\d{4}$/)
  from?: string;

  @ApiPropertyOptional({ example: '2025' })
  @IsOptional()
  @Matches(/^\d{4}$/)
  to?: string;

  @ApiPropertyOptional({ enum: ['json', 'csv'] })
  @IsOptional()
  @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';
}
