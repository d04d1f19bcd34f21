import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The response models of the KPI reads: the events of `lgsp.kpi.v1`, as the API serves them. */

export class InputRefView {
  @ApiProperty() source!: string;
  @ApiProperty() feedId!: string;
  @ApiProperty() measure!: string;
  @ApiPropertyOptional({ enum: ['>', '>=', '<', '<=', '~'] }) qualifier?: string;
}

export class CompletenessView {
  @ApiProperty({ type: [String], description: 'sources expected to report the inputs' })
  expected!: string[];
  @ApiProperty({ type: [String], description: 'sources that contributed' })
  reported!: string[];
}

export class AttainmentView {
  @ApiProperty() planId!: string;
  @ApiProperty() issuingBody!: string;
  @ApiProperty() documentNumber!: string;
  @ApiProperty() targetPeriod!: string;
  @ApiProperty() target!: number;
  @ApiProperty({ enum: ['at_least', 'at_most'] }) comparison!: string;
  @ApiProperty({ enum: ['level', 'year_to_date'] }) basis!: string;
  @ApiProperty({ type: Number, nullable: true }) actual!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'actual / target' })
  ratio!: number | null;
  @ApiProperty({ type: Boolean, nullable: true }) met!: boolean | null;
}

export class ApprovalView {
  @ApiProperty({ enum: ['open', 'submitted', 'approved'] }) state!: string;
  @ApiProperty({ description: 'the token that moved it' }) by!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiPropertyOptional({ description: 'the larger period it was moved with' }) period?: string;
  @ApiPropertyOptional({ description: 'why it was returned or re-opened' }) reason?: string;
}

export class PendingView {
  @ApiProperty({ type: Number, nullable: true }) value!: number | null;
  @ApiProperty({ type: Number, nullable: true }) numerator!: number | null;
  @ApiProperty({ type: Number, nullable: true }) denominator!: number | null;
  @ApiProperty({ type: String, nullable: true }) denominatorPeriod!: string | null;
  @ApiProperty({ enum: ['final', 'provisional'] }) status!: string;
  @ApiProperty({ type: CompletenessView }) completeness!: CompletenessView;
  @ApiPropertyOptional() note?: string;
  @ApiPropertyOptional() yearToDate?: number;
  @ApiProperty({ format: 'date-time' }) computedAt!: string;
}

export class AreaRefView {
  @ApiProperty({ enum: ['2008', '2025'] }) areaSet!: string;
  @ApiProperty({ example: '35' }) area!: string;
}

export class KpiEventView {
  @ApiProperty({ example: 'lgsp.kpi.v1' }) schema!: string;
  @ApiProperty({ format: 'uuid' }) eventId!: string;
  @ApiProperty({ example: 'MBB_SUB_P100' }) kpi!: string;
  @ApiProperty({ example: '37' }) area!: string;
  @ApiProperty({
    enum: ['2008', '2025'],
    description: 'the boundary set area is a code of: (areaSet, area) names one unit',
  })
  areaSet!: string;
  @ApiPropertyOptional({
    enum: ['rebased-2025'],
    description: 're-based history only: the figure over the 2025 boundaries',
  })
  basis?: string;
  @ApiPropertyOptional({
    type: [AreaRefView],
    description: 're-based history only: the old units it is computed over',
  })
  rebasedFrom?: AreaRefView[];
  @ApiProperty({ example: 'Ninh Bình' }) areaName!: string;
  @ApiProperty({ example: '2023-H1' }) period!: string;
  @ApiProperty({ type: Number, nullable: true }) value!: number | null;
  @ApiProperty({ example: 'per_100_inhabitants' }) unit!: string;
  @ApiProperty({ type: Number, nullable: true }) numerator!: number | null;
  @ApiProperty({ type: Number, nullable: true }) denominator!: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'the period the denominator is of' })
  denominatorPeriod!: string | null;
  @ApiProperty({ enum: ['final', 'provisional'] }) status!: string;
  @ApiProperty({ type: CompletenessView }) completeness!: CompletenessView;
  @ApiProperty() revision!: number;
  @ApiProperty({ format: 'date-time' }) computedAt!: string;
  @ApiPropertyOptional({
    type: ApprovalView,
    description:
      "the approval of the key's province and period; absent: open, never submitted. approved: the figure is the official one",
  })
  approval?: ApprovalView;
  @ApiPropertyOptional({
    type: PendingView,
    description: 'approved keys: a later computation, held until the period is approved again',
  })
  pending?: PendingView;
  @ApiProperty({ type: [InputRefView] }) inputs!: InputRefView[];
  @ApiPropertyOptional() note?: string;
  @ApiPropertyOptional({ description: 'flow KPIs: January to the end of the period' })
  yearToDate?: number;
  @ApiPropertyOptional({ type: AttainmentView, description: 'the plan target that applies' })
  target?: AttainmentView;
}

export class KpiPage {
  @ApiProperty() count!: number;
  @ApiProperty({ type: [KpiEventView] }) items!: KpiEventView[];
  @ApiProperty({ type: String, nullable: true, description: 'pass as `after` for the next page' })
  next!: string | null;
  @ApiProperty() more!: boolean;
}

export class KpiSeries {
  @ApiProperty() kpi!: string;
  @ApiProperty() area!: string;
  @ApiProperty({
    enum: ['2008', '2025'],
    description: 'the one unit of the series: without areaSet asked, the unit the code names today',
  })
  areaSet!: string;
  @ApiProperty() areaName!: string;
  @ApiProperty({ enum: ['published', 'rebased'] }) basis!: string;
  @ApiProperty({ description: 'what the series is of, in words' }) note!: string;
  @ApiProperty() count!: number;
  @ApiProperty({ type: [KpiEventView], description: 'oldest first' }) items!: KpiEventView[];
}

export class KpiChangesPage {
  @ApiProperty({ type: [KpiEventView], description: 'every published revision, in commit order' })
  items!: KpiEventView[];
  @ApiProperty({ description: 'the cursor to pass as `after` next time' }) next!: string;
  @ApiProperty() more!: boolean;
}
