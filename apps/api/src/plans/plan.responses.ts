import { ApiProperty } from '@nestjs/swagger';

class PlanTargetView {
  @ApiProperty() planId!: string;
  @ApiProperty() issuingBody!: string;
  @ApiProperty() documentNumber!: string;
  @ApiProperty({ enum: ['2008', '2025'] }) bs!: string;
  @ApiProperty() area!: string;
  @ApiProperty() kpi!: string;
  @ApiProperty() targetPeriod!: string;
  @ApiProperty() targetValue!: number;
  @ApiProperty({ enum: ['at_least', 'at_most'] }) comparison!: string;
  @ApiProperty({ type: String, nullable: true }) note!: string | null;
}

export class TargetList {
  @ApiProperty() count!: number;
  @ApiProperty({ type: [PlanTargetView] }) items!: PlanTargetView[];
}

export class PlansLoaded {
  @ApiProperty({ description: 'targets stored' }) loaded!: number;
  @ApiProperty({ type: [String], description: 'what was read other than written' })
  warnings!: string[];
}
