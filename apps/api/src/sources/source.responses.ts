import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';

class ReportsView {
  @ApiProperty({ enum: ['month', 'quarter', 'half', 'year'] }) every!: string;
  @ApiProperty({ description: 'days after the period a report is due' }) dueDays!: number;
}

export class KafkaCredentialView {
  @ApiProperty() bootstrap!: string;
  @ApiProperty({ enum: ['SASL_SSL'] }) securityProtocol!: string;
  @ApiProperty({ enum: ['SCRAM-SHA-512'] }) mechanism!: string;
  @ApiProperty() username!: string;
  @ApiProperty({ description: 'shown once' }) password!: string;
  @ApiProperty({ description: 'the one topic it may write' }) topic!: string;
}

export class SourceView {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['operator', 'agency'] }) kind!: string;
  @ApiProperty() displayName!: string;
  @ApiProperty({ type: [String] }) measures!: string[];
  @ApiProperty({
    oneOf: [
      { type: 'string', enum: ['*'] },
      { type: 'array', items: { type: 'string' } },
    ],
    description: "'*' or the province codes it may report",
  })
  areas!: string[] | '*';
  @ApiProperty({ type: [String], description: 'measures it is expected to report' })
  expects!: string[];
  @ApiProperty() active!: boolean;
  @ApiProperty({ type: ReportsView }) reports!: ReportsView;
  @ApiProperty({ type: Object, nullable: true, description: 'its mapping profile' })
  mapping!: object | null;
  @ApiProperty({ example: 'lgsp.feeds.v1.viettel' }) topic!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class SourceCreated extends SourceView {
  @ApiPropertyOptional({ type: KafkaCredentialView, description: 'on a secured broker' })
  kafka?: KafkaCredentialView;
}

class SourceStanding extends OmitType(SourceView, []) {
  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  lastReceivedAt!: string | null;
  @ApiProperty({ type: String, nullable: true }) lastPeriod!: string | null;
  @ApiProperty({ description: 'feeds received' }) feeds!: number;
  @ApiProperty({ type: String, nullable: true, description: 'the period due now' })
  due!: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date' }) dueBy!: string | null;
  @ApiProperty() late!: boolean;
}

export class SourceList {
  @ApiProperty({ format: 'date' }) today!: string;
  @ApiProperty({ type: [SourceStanding] }) items!: SourceStanding[];
}

export class CredentialRemoved {
  @ApiProperty() removed!: string;
}

export class KeyIssued {
  @ApiProperty() keyId!: string;
  @ApiProperty() sourceId!: string;
  @ApiProperty({ description: 'lgsk_..., shown once' }) key!: string;
}

class KeyView {
  @ApiProperty() keyId!: string;
  @ApiProperty({ type: String, nullable: true }) label!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) revokedAt!: string | null;
}

export class KeyList {
  @ApiProperty({ type: [KeyView] }) items!: KeyView[];
}

export class KeyRevoked {
  @ApiProperty() revoked!: string;
}
