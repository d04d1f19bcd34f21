import { ApiExtraModels, ApiProperty, getSchemaPath } from '@nestjs/swagger';

export class FeedErrorView {
  @ApiProperty({ example: 'NOT_AUTHORISED' }) code!: string;
  @ApiProperty({ example: 'observations[3].area' }) path!: string;
  @ApiProperty() message!: string;
}

class KafkaPosition {
  @ApiProperty() topic!: string;
  @ApiProperty() partition!: number;
  @ApiProperty() offset!: string;
}

@ApiExtraModels(KafkaPosition)
class ExchangeView {
  @ApiProperty() id!: string;
  @ApiProperty({ format: 'date-time' }) receivedAt!: string;
  @ApiProperty({ enum: ['kafka', 'http', 'replay'] }) channel!: string;
  @ApiProperty({ type: String, nullable: true }) source!: string | null;
  @ApiProperty({ type: String, nullable: true }) feedId!: string | null;
  @ApiProperty({ nullable: true, allOf: [{ $ref: getSchemaPath(KafkaPosition) }] })
  kafka!: KafkaPosition | null;
  @ApiProperty() sizeBytes!: number;
  @ApiProperty({ type: String, nullable: true }) contentSha256!: string | null;
  @ApiProperty({ enum: ['validated', 'accepted', 'duplicate', 'rejected'] }) outcome!: string;
  @ApiProperty({ type: String, nullable: true }) errorCode!: string | null;
  @ApiProperty({ type: [FeedErrorView], nullable: true }) errors!: FeedErrorView[] | null;
  @ApiProperty({ type: Number, nullable: true }) observations!: number | null;
  @ApiProperty({ type: [String], description: 'the first KPI keys it changed' })
  kpiKeys!: string[];
  @ApiProperty() kpiKeyCount!: number;
  @ApiProperty({ type: String, nullable: true }) replayOf!: string | null;
  @ApiProperty({ type: String, nullable: true }) dlqId!: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) decidedAt!: string | null;
}

export class ExchangePage {
  @ApiProperty({ type: [ExchangeView] }) items!: ExchangeView[];
  @ApiProperty({ type: String, nullable: true, description: 'pass as `after` for the next page' })
  next!: string | null;
}

export class DlqEntryView {
  @ApiProperty() id!: string;
  @ApiProperty({ type: String, nullable: true }) exchangeId!: string | null;
  @ApiProperty({ type: String, nullable: true }) source!: string | null;
  @ApiProperty({ type: String, nullable: true }) feedId!: string | null;
  @ApiProperty({ type: String, nullable: true }) topic!: string | null;
  @ApiProperty() errorCode!: string;
  @ApiProperty({ type: [FeedErrorView] }) errors!: FeedErrorView[];
  @ApiProperty({ enum: ['ingest', 'ingest-http', 'aggregator'] }) rejectedBy!: string;
  @ApiProperty({ format: 'date-time' }) rejectedAt!: string;
  @ApiProperty() replays!: number;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  lastReplayedAt!: string | null;
  @ApiProperty() replayable!: boolean;
  @ApiProperty() sizeBytes!: number;
}

export class DlqPage {
  @ApiProperty({ type: [DlqEntryView] }) items!: DlqEntryView[];
  @ApiProperty({ type: String, nullable: true }) next!: string | null;
}

export class DlqRecordView extends DlqEntryView {
  @ApiProperty({ type: String, nullable: true }) key!: string | null;
  @ApiProperty({ description: 'the bytes as received, as text or base64' }) payload!: string;
  @ApiProperty({ enum: ['utf-8', 'base64'] }) payloadEncoding!: string;
}

export class Replayed {
  @ApiProperty() dlqId!: string;
  @ApiProperty() topic!: string;
  @ApiProperty() message!: string;
}
