import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

/** A page of a list ordered by id: after the previous page's last id, up to `limit`. */
export class PageQueryDto {
  @ApiPropertyOptional({ description: 'cursor: the last id of the previous page' })
  @IsOptional()
  @Matches(/^\d{1,18}$/)
  after?: string;

  @ApiPropertyOptional({ default: 100, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}
