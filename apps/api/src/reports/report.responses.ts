import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';

/** The report as data (`format=json`): what `report.model.ts` builds. */

class ReportTargetView {
  @ApiProperty() value!: number;
  @ApiProperty() period!: string;
  @ApiProperty({ enum: ['at_least', 'at_most', 'exactly'] }) comparison!: string;
  @ApiProperty({ description: 'document number (issuing body)' }) document!: string;
  @ApiProperty({ type: Number, nullable: true, description: 'value / target' })
  attainment!: number | null;
  @ApiProperty({ type: Boolean, nullable: true }) met!: boolean | null;
}

class ReportIndicatorView {
  @ApiProperty({ example: 'HH_FTTH_RATE' }) kpi!: string;
  @ApiProperty({ description: "the KPI's name in the report's language" }) name!: string;
  @ApiProperty() unit!: string;
  @ApiProperty() unitName!: string;
  @ApiProperty({ type: Number, nullable: true }) value!: number | null;
  @ApiProperty({ type: Number, nullable: true }) numerator!: number | null;
  @ApiProperty({ type: Number, nullable: true }) denominator!: number | null;
  @ApiProperty({ type: String, nullable: true }) denominatorPeriod!: string | null;
  @ApiProperty({ type: Number, nullable: true }) previous!: number | null;
  @ApiProperty({ type: Number, nullable: true }) changePrevious!: number | null;
  @ApiProperty({ type: Number, nullable: true }) yearBefore!: number | null;
  @ApiProperty({ type: Number, nullable: true }) changeYear!: number | null;
  @ApiPropertyOptional({ type: ReportTargetView }) target?: ReportTargetView;
  @ApiProperty({ type: String, enum: ['final', 'provisional'], nullable: true })
  status!: string | null;
  @ApiProperty({ type: [String] }) expected!: string[];
  @ApiProperty({ type: [String] }) reported!: string[];
  @ApiProperty({ type: Number, nullable: true, description: 'a correction held for approval' })
  pending!: number | null;
  @ApiProperty({ type: [String] }) notes!: string[];
}

class ReportSubUnitView {
  @ApiProperty() code!: string;
  @ApiProperty() name!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'number', nullable: true },
    description: 'value per KPI',
  })
  values!: Record<string, number | null>;
}

class ReportSubUnitsView {
  @ApiProperty({ enum: ['district', 'commune'] }) level!: string;
  @ApiProperty({ type: [String] }) kpis!: string[];
  @ApiProperty({ type: [ReportSubUnitView] }) rows!: ReportSubUnitView[];
}

export class ReportPointView {
  @ApiProperty() period!: string;
  @ApiProperty({ type: Number, nullable: true }) value!: number | null;
}

class ReportSourceView {
  @ApiProperty() source!: string;
  @ApiProperty({ description: 'indicators that expect it' }) expected!: number;
  @ApiProperty({ description: 'of those, reported' }) reported!: number;
}

class ReportApprovalView {
  @ApiProperty({ enum: ['open', 'submitted', 'approved'] }) state!: string;
  @ApiPropertyOptional() by?: string;
  @ApiPropertyOptional({ format: 'date-time' }) at?: string;
  @ApiPropertyOptional() period?: string;
  @ApiPropertyOptional() reason?: string;
}

export class ReportView {
  @ApiProperty({ enum: ['2008', '2025'] }) areaSet!: string;
  @ApiProperty() area!: string;
  @ApiProperty() areaName!: string;
  @ApiProperty() period!: string;
  @ApiProperty() previousPeriod!: string;
  @ApiProperty() yearBeforePeriod!: string;
  @ApiProperty({ enum: ['vi', 'en'] }) lang!: string;
  @ApiProperty({ format: 'date-time' }) generatedAt!: string;
  @ApiProperty({ type: ReportApprovalView }) approval!: ReportApprovalView;
  @ApiProperty({ type: [ReportIndicatorView] }) indicators!: ReportIndicatorView[];
  @ApiProperty({ type: [String], description: 'KPIs with no figure' }) withoutFigures!: string[];
  @ApiProperty({ type: ReportSubUnitsView }) subUnits!: ReportSubUnitsView;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'array', items: { $ref: getSchemaPath(ReportPointView) } },
    description: "each KPI's series, oldest first",
  })
  series!: Record<string, ReportPointView[]>;
  @ApiProperty({ type: [ReportSourceView] }) completeness!: ReportSourceView[];
  @ApiProperty({ type: [String] }) notes!: string[];
}
