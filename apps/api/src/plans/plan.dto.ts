import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { KPIS } from '@app/catalogue';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsNumber,
  IsOptional,
  IsString,
  Length,
  Matches,
  ValidateNested,
} from 'class-validator';

export class PlanTargetDto {
  @ApiProperty({ enum: Object.keys(KPIS) })
  @IsIn(Object.keys(KPIS))
  kpi!: string;

  @ApiProperty({ example: '2025' })
  @Matches(/^\d{4}(-(H[12]|Q[1-4]|0[1-9]|1[0-2]))?$/)
  period!: string;

  @ApiProperty({ example: 80 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  value!: number;

  /** What the document wrote next to the number ("%" for a per-100 figure is fixed at load). */
  @ApiPropertyOptional({ enum: ['percent', 'per_100_inhabitants', 'mbit_per_s', 'vnd'] })
  @IsOptional()
  @IsIn(['percent', 'per_100_inhabitants', 'mbit_per_s', 'vnd'])
  unit?: 'percent' | 'per_100_inhabitants' | 'mbit_per_s' | 'vnd';

  @ApiPropertyOptional({ enum: ['at_least', 'at_most', 'exactly'] })
  @IsOptional()
  @IsIn(['at_least', 'at_most', 'exactly'])
  comparison?: 'at_least' | 'at_most' | 'exactly';

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(0, 500)
  note?: string;
}

export class PlanDto {
  @ApiProperty({ example: 'ninh-binh-hts-2023-2025' })
  @Matches(/^[A-Za-z0-9._:-]{1,128}$/)
  planId!: string;

  @ApiProperty({ example: 'UBND tỉnh Ninh Bình' })
  @IsString()
  @Length(1, 200)
  issuingBody!: string;

  @ApiProperty({ example: 'KH số 152/KH-UBND' })
  @IsString()
  @Length(1, 200)
  documentNumber!: string;

  /** Decides which unit list the area code is read in. */
  @ApiProperty({ example: '2023-09-15' })
  @Matches(/^\d{4}-\d{2}-\d{2}$/)
  issuedOn!: string;

  @ApiProperty({ example: '37' })
  @Matches(/^\d{2}(\d|\d{3})?$/)
  area!: string;

  @ApiProperty({ type: [PlanTargetDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(500)
  @ValidateNested({ each: true })
  @Type(() => PlanTargetDto)
  targets!: PlanTargetDto[];
}

export class PlansDto {
  @ApiProperty({ type: [PlanDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => PlanDto)
  plans!: PlanDto[];
}
