import {
  ConflictException,
  Controller,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
  Req,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiAcceptedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { HUB_HEADERS, TOPICS } from '@app/contract';
import { AuditStore, DATA_SOURCE } from '@app/database';
import { createIdempotentProducer, KAFKA } from '@app/kafka';
import { IsIn, IsOptional, IsRFC3339, IsString } from 'class-validator';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { AdminLog } from '../access/admin-log.service.js';
import { PageQueryDto } from '../common/page-query.dto.js';
import { Needs, type RequestWithPrincipal } from '../common/roles.guard.js';
import { DlqPage, DlqRecordView, ExchangePage, Replayed } from './audit.responses.js';

export class ExchangeQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'viettel' })
  @IsOptional()
  @IsString()
  source?: string;

  @ApiPropertyOptional({ example: '2026-11-01T00:00:00Z', description: 'received at or after' })
  @IsOptional()
  @IsRFC3339()
  from?: string;

  @ApiPropertyOptional({ example: '2026-12-01T00:00:00Z', description: 'received before' })
  @IsOptional()
  @IsRFC3339()
  to?: string;

  @ApiPropertyOptional({ enum: ['validated', 'accepted', 'duplicate', 'rejected'] })
  @IsOptional()
  @IsIn(['validated', 'accepted', 'duplicate', 'rejected'])
  outcome?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  feedId?: string;
}

export class DlqQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'viettel' })
  @IsOptional()
  @IsString()
  source?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The record of every exchange, and the DLQ: list, inspect, replay. A replayed feed goes
 * through the ingest like a new one; the aggregator's (source, feedId) check means it is
 * applied at most once however often it is replayed.
 */
@ApiTags('audit')
@ApiBearerAuth()
@Needs('ops')
@Controller('v1')
export class AuditController {
  constructor(
    private readonly audit: AuditStore,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(KAFKA) private readonly kafka: Kafka,
    private readonly log: AdminLog,
  ) {}

  @Get('exchanges')
  @ApiOperation({
    summary:
      'The audit log: every feed received on any channel, its size, hash, outcome and the KPI keys it changed',
  })
  @ApiOkResponse({ type: ExchangePage })
  async exchanges(@Query() q: ExchangeQueryDto) {
    const limit = q.limit ?? 100;
    const items = await this.audit.exchanges(this.ds, { ...q, limit });
    return { items, next: items.length === limit ? items.at(-1)!.id : null };
  }

  @Get('dlq')
  @ApiOkResponse({ type: DlqPage })
  @ApiOperation({ summary: 'Rejected feeds, with every reason' })
  async dlq(@Query() q: DlqQueryDto) {
    const limit = q.limit ?? 100;
    const items = await this.audit.dlq(this.ds, { ...q, limit });
    return { items, next: items.length === limit ? items.at(-1)!.id : null };
  }

  @Get('dlq/:id')
  @ApiOkResponse({ type: DlqRecordView })
  @ApiOperation({ summary: 'One rejected feed: its reasons and its bytes (as text, or base64)' })
  async dlqEntry(@Param('id') id: string) {
    const e = await this.mustGet(id);
    const { payload, key, ...rest } = e;
    let text: string | null = null;
    try {
      text = utf8.decode(payload);
    } catch {
      text = null;
    }
    return {
      ...rest,
      key,
      payload: text ?? payload.toString('base64'),
      payloadEncoding: text === null ? 'base64' : 'utf-8',
    };
  }

  @Post('dlq/:id/replay')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: Replayed })
  @ApiOperation({
    summary:
      'Send a rejected feed through the hub again (after a registration or mapping fix); it is never counted twice',
  })
  async replay(@Param('id') id: string, @Req() req: RequestWithPrincipal) {
    const e = await this.mustGet(id);
    if (!e.replayable)
      throw new ConflictException(
        `DLQ entry ${id} cannot be replayed: ${e.errorCode === 'MALFORMED_CSV' ? 'the CSV itself could not be read' : 'its bytes are not a feed'}; the source must send it again`,
      );
    const topic = (e.topic as string | null) ?? TOPICS.feeds;
    const producer = createIdempotentProducer(this.kafka);
    await producer.connect();
    try {
      await producer.send({
        topic,
        acks: -1,
        messages: [
          {
            key: e.key ?? (e.source as string | null),
            value: e.payload,
            headers: { [HUB_HEADERS.channel]: 'replay', [HUB_HEADERS.replayOf]: id },
          },
        ],
      });
    } finally {
      await producer.disconnect();
    }
    await this.audit.markReplayed(this.ds, id);
    await this.log.record(req, 'dlq.replay', `dlq:${id}`, { after: { topic } });
    return {
      dlqId: id,
      topic,
      message: `replayed to ${topic}; its outcome will be at GET /v1/exchanges?feedId=${typeof e.feedId === 'string' ? e.feedId : ''}`,
    };
  }

  private async mustGet(id: string) {
    if (!/^\d{1,18}$/.test(id)) throw new NotFoundException(`no DLQ entry "${id}"`);
    const e = await this.audit.dlqEntry(this.ds, id);
    if (!e) throw new NotFoundException(`no DLQ entry ${id}: list them with GET /v1/dlq`);
    return e;
  }
}
