import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

class ServiceState {
  @ApiProperty({ enum: ['ingest', 'aggregator', 'relay', 'api'] }) name!: string;
  @ApiProperty() url!: string;
  @ApiProperty() reachable!: boolean;
  @ApiProperty({ type: Number, nullable: true, description: 'the HTTP status of its /health' })
  status!: number | null;
  @ApiProperty({ type: Object, nullable: true, description: 'its /health report' })
  health!: object | null;
}

class DlqSize {
  @ApiProperty({ type: Number, nullable: true }) records!: number | null;
  @ApiPropertyOptional() error?: string;
}

export class PipelineView {
  @ApiProperty({ format: 'date-time' }) checkedAt!: string;
  @ApiProperty({ type: [ServiceState] }) services!: ServiceState[];
  @ApiProperty({ type: DlqSize }) dlq!: DlqSize;
}

class KpiArea {
  @ApiProperty() area!: string;
  @ApiProperty() areaName!: string;
  @ApiProperty({ enum: ['2008', '2025'] }) set!: string;
  @ApiProperty() kpis!: number;
  @ApiProperty() targets!: number;
}

export class KpiAreaList {
  @ApiProperty({ type: [KpiArea] }) items!: KpiArea[];
}
