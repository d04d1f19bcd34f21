import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

class FeedErrorView {
  @ApiProperty({ example: 'NOT_AUTHORISED' }) code!: string;
  @ApiProperty({ example: 'observations[3].area' }) path!: string;
  @ApiProperty() message!: string;
}

/** What the ingest answers a feed sent over HTTP. */
export class FeedReceipt {
  @ApiProperty({ description: 'its entry in the audit log (GET /v1/exchanges on the api)' })
  exchangeId!: string;
  @ApiProperty({ type: String, nullable: true }) feedId!: string | null;
  @ApiPropertyOptional({ enum: ['accepted', 'duplicate'] }) outcome?: string;
  @ApiPropertyOptional({ description: 'accepted: its observations' }) observations?: number;
  @ApiPropertyOptional({ type: [FeedErrorView], description: 'refused: every reason' })
  errors?: FeedErrorView[];
  @ApiProperty({ description: 'what happened, and what to do next' }) message!: string;
}

/** Every answer but 202 and 200 is a refusal with the same receipt. */
export const REFUSALS = [
  [400, 'refused: every error, each with its path (a CSV row and column)'],
  [401, 'no API key, or an unknown or revoked one'],
  [403, 'a feed outside the source registration (NOT_AUTHORISED)'],
  [413, 'a body over HTTP_FEED_MAX_BYTES'],
  [503, 'the hub cannot take it now; nothing was stored: send it again'],
] as const;
