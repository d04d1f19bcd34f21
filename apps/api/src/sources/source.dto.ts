import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MEASURES } from '@app/catalogue';
import { Type } from 'class-transformer';
import {
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';

const MEASURE_CODES = Object.keys(MEASURES);

export class ReportsDto {
  @ApiProperty({ enum: ['month', 'quarter', 'half', 'year'] })
  @IsIn(['month', 'quarter', 'half', 'year'])
  every!: 'month' | 'quarter' | 'half' | 'year';

  @ApiProperty({ description: 'Days after the end of a period by which its feed is due' })
  @IsInt()
  @Min(0)
  @Max(366)
  dueDays!: number;
}

/** Fields a registration can change. */
export class SourcePatchDto {
  @ApiPropertyOptional({ enum: ['operator', 'agency'] })
  @IsOptional()
  @IsIn(['operator', 'agency'])
  kind?: 'operator' | 'agency';

  @ApiPropertyOptional({ example: 'Viettel' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  displayName?: string;

  @ApiPropertyOptional({
    description: 'Measures it may report',
    enum: MEASURE_CODES,
    isArray: true,
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(MEASURE_CODES, { each: true })
  measures?: string[];

  @ApiPropertyOptional({
    description: 'Province codes it covers (either boundary set), or "*" for all',
    example: ['37', '36'],
  })
  @IsOptional()
  @Matches(/^(\*|\d{2})$/, { each: true, message: 'areas are 2-digit province codes, or "*"' })
  areas?: string[] | '*';

  @ApiPropertyOptional({
    description: 'Measures it is expected to report (completeness); default: all it may report',
  })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsIn(MEASURE_CODES, { each: true })
  expects?: string[];

  @ApiPropertyOptional({ type: ReportsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => ReportsDto)
  reports?: ReportsDto;

  @ApiPropertyOptional({
    description: 'false suspends it: its feeds are refused as not authorised',
  })
  @IsOptional()
  @IsBoolean()
  active?: boolean;

  @ApiPropertyOptional({
    description: 'Mapping profile: { measures, areas, numbers, columns } (see the README)',
  })
  @IsOptional()
  @IsObject()
  mapping?: Record<string, unknown>;
}

export class SourceDto extends SourcePatchDto {
  @ApiProperty({ example: 'itel', description: 'Lower-case id: letters, digits, _ and -' })
  @Matches(/^[a-z0-9][a-z0-9_-]{0,63}$/, {
    message:
      'id must be 1 to 64 lower-case letters, digits, _ or -, starting with a letter or digit',
  })
  id!: string;

  @ApiProperty({ enum: ['operator', 'agency'] })
  @IsIn(['operator', 'agency'])
  declare kind: 'operator' | 'agency';

  @ApiProperty({ example: 'iTel' })
  @IsString()
  @Length(1, 200)
  declare displayName: string;

  @ApiProperty({ enum: MEASURE_CODES, isArray: true })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(MEASURE_CODES, { each: true })
  declare measures: string[];

  @ApiProperty({ type: ReportsDto })
  @ValidateNested()
  @Type(() => ReportsDto)
  declare reports: ReportsDto;
}

export class KeyRequestDto {
  @ApiPropertyOptional({ example: 'viettel-etl-2026', description: 'What the key is for' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  label?: string;
}
