import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { KPIS } from '@app/catalogue';
import { PERIOD_PATTERN } from '@app/contract';

const AREA = /^\d{2}(\d|\d{3})?$/;
const AREA_MESSAGE = 'area must be a 2, 3 or 5 digit statistics office code';
const PERIOD_MESSAGE = 'period must be YYYY, YYYY-H1|H2, YYYY-Q1..Q4 or YYYY-MM';
const KPI_MESSAGE = `kpi must be one of ${Object.keys(KPIS).join(', ')}`;

/** `GET /v1/kpis`: each filter optional; all given ones must match. */
export class KpiQueryDto {
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

/** `GET /v1/kpis/series`: one KPI of one area over time. */
export class KpiSeriesQueryDto {
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
