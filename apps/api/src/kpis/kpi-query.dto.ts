import { IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { KPIS } from '@app/catalogue';
import { PERIOD_PATTERN } from '@app/contract';

/** `GET /v1/kpis` filters; each is optional, all given ones must match. */
export class KpiQueryDto {
  @IsOptional()
  @IsString()
  @Matches(/^\d{2}(\d|\d{3})?$/, {
    message: 'area must be a 2, 3 or 5 digit statistics office code',
  })
  area?: string;

  @IsOptional()
  @IsString()
  @Matches(PERIOD_PATTERN, { message: 'period must be YYYY, YYYY-H1|H2, YYYY-Q1..Q4 or YYYY-MM' })
  period?: string;

  @IsOptional()
  @IsIn(Object.keys(KPIS), { message: `kpi must be one of ${Object.keys(KPIS).join(', ')}` })
  kpi?: string;
}
