import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';

class OperandView {
  @ApiProperty() measure!: string;
  @ApiProperty({ enum: ['value', 'count_union', 'count_shared'] }) take!: string;
}

class MeasureView {
  @ApiProperty() code!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ enum: ['count', 'amount', 'item_set', 'statistic'] }) kind!: string;
  @ApiProperty({ enum: ['stock', 'flow', 'reference', 'none'] }) overTime!: string;
  @ApiProperty({ enum: ['operator', 'agency'] }) reportedBy!: string;
  @ApiProperty({ enum: ['sum', 'union', 'not combined'] }) acrossSources!: string;
}

@ApiExtraModels(OperandView)
class KpiNamesView {
  @ApiProperty({ example: 'Số thuê bao băng rộng di động trên 100 dân' }) vi!: string;
  @ApiProperty({ example: 'Mobile broadband subscriptions per 100 inhabitants' }) en!: string;
}

class KpiDefView {
  @ApiProperty() code!: string;
  @ApiProperty({ type: KpiNamesView, description: 'as the criteria word it, and in English' })
  names!: KpiNamesView;
  @ApiProperty({ type: KpiNamesView, description: "the unit's name" }) unitNames!: KpiNamesView;
  @ApiProperty() unit!: string;
  @ApiProperty() formula!: string;
  @ApiProperty({ type: OperandView }) numerator!: OperandView;
  @ApiProperty({ nullable: true, allOf: [{ $ref: getSchemaPath(OperandView) }] })
  denominator!: OperandView | null;
  @ApiProperty() scale!: number;
}

export class CatalogueView {
  @ApiProperty({ type: [MeasureView] }) measures!: MeasureView[];
  @ApiProperty({ type: [KpiDefView] }) kpis!: KpiDefView[];
}

class AreaView {
  @ApiProperty({ enum: ['2008', '2025'] }) set!: string;
  @ApiProperty({ enum: ['2008', '2025'], description: 'the same as set' }) areaSet!: string;
  @ApiProperty() code!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['province', 'district', 'commune'] }) level!: string;
  @ApiProperty({ type: String, nullable: true }) parent!: string | null;
  @ApiProperty() province!: string;
  @ApiPropertyOptional({
    type: [String],
    description: 'a 2025 province: the 2008 provinces that went into it',
  })
  formedFrom?: string[];
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'a 2008 province: the 2025 province it went into',
  })
  becameArea?: string | null;
}

export class AreaList {
  @ApiProperty() count!: number;
  @ApiProperty({ type: [AreaView] }) items!: AreaView[];
}
