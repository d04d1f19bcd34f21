import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ApprovalView } from '../kpis/kpi.responses.js';

export class ApprovalItem {
  @ApiProperty({ enum: ['2008', '2025'] }) areaSet!: string;
  @ApiProperty({ example: '11' }) area!: string;
  @ApiProperty({ example: 'Điện Biên' }) areaName!: string;
  @ApiProperty({ example: '2024-Q1' }) period!: string;
  @ApiProperty({ enum: ['open', 'submitted', 'approved'] }) state!: string;
  @ApiProperty() by!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiPropertyOptional({ description: 'the larger period it was moved with' }) via?: string;
  @ApiPropertyOptional() reason?: string;
}

export class ApprovalList {
  @ApiProperty({ type: [ApprovalItem], description: 'newest move first' }) items!: ApprovalItem[];
}

export class ApprovalMoved {
  @ApiProperty({ enum: ['2008', '2025'] }) areaSet!: string;
  @ApiProperty() area!: string;
  @ApiProperty() areaName!: string;
  @ApiProperty() period!: string;
  @ApiProperty({ type: [String], description: 'the period and those it is built from' })
  periods!: string[];
  @ApiProperty({ type: ApprovalView }) approval!: ApprovalView;
  @ApiProperty({ description: 'KPI events the move published' }) events!: number;
}
