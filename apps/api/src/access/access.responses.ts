import { ApiProperty } from '@nestjs/swagger';

export class TokenView {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['admin', 'ops', 'reader', 'approver'] }) role!: string;
  @ApiProperty({
    type: [String],
    nullable: true,
    description: 'a reader: its provinces; null: all',
  })
  provinces!: string[] | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty() createdBy!: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) expiresAt!: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) revokedAt!: string | null;
  @ApiProperty({ type: String, nullable: true }) replacedBy!: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) lastUsedAt!: string | null;
}

export class TokenIssued extends TokenView {
  @ApiProperty({ description: 'lgst_..., shown once' }) token!: string;
}

export class TokenList {
  @ApiProperty({ type: [TokenView] }) items!: TokenView[];
}

export class TokenRevoked {
  @ApiProperty() revoked!: string;
}

class AdminActionView {
  @ApiProperty() id!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty() actor!: string;
  @ApiProperty({ example: 'source.update' }) action!: string;
  @ApiProperty({ type: String, nullable: true, example: 'source:itel' }) target!: string | null;
  @ApiProperty({ type: Object, nullable: true }) before!: object | null;
  @ApiProperty({ type: Object, nullable: true }) after!: object | null;
}

export class AdminActionList {
  @ApiProperty({ type: [AdminActionView] }) items!: AdminActionView[];
}
