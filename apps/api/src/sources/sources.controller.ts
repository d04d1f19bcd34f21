import {
  BadGatewayException,
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Patch,
  Post,
  Put,
  Req,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { lastDay, lateness, type MappingProfile, mustParsePeriod } from '@app/catalogue';
import { checkMappingProfile, sourceTopic, sourceTopicSpec } from '@app/contract';
import { DATA_SOURCE, RegistryStore, type StoredSource } from '@app/database';
import { ensureTopics, KAFKA } from '@app/kafka';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { AdminLog } from '../access/admin-log.service.js';
import { Needs, type RequestWithPrincipal } from '../common/roles.guard.js';
import { KafkaAccess } from './kafka-access.service.js';
import { KeyRequestDto, SourceDto, SourcePatchDto } from './source.dto.js';
import {
  CredentialRemoved,
  KafkaCredentialView,
  KeyIssued,
  KeyList,
  KeyRevoked,
  SourceCreated,
  SourceList,
  SourceView,
} from './source.responses.js';

/**
 * The source registry: who may send what, where, in which shape, and with which keys. Reading
 * it is open (ops and the dashboard show lateness); changing it needs the admin token. A
 * change takes effect on the next batch the ingest and aggregator read.
 */
@ApiTags('sources')
@Controller('v1/sources')
export class SourcesController {
  constructor(
    private readonly registry: RegistryStore,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(KAFKA) private readonly kafka: Kafka,
    private readonly access: KafkaAccess,
    private readonly log: AdminLog,
  ) {}

  @Get()
  @ApiOperation({
    summary:
      'Every registered source, its last feed, and whether it is late for the current period',
  })
  @ApiOkResponse({ type: SourceList })
  async list() {
    const rows: { source: string; period: string; received: Date; feeds: string }[] =
      await this.ds.query(
        `SELECT source, period, max(received_at) AS received, count(*)::text AS feeds
         FROM feed GROUP BY source, period`,
      );
    const today = new Date().toISOString().slice(0, 10);
    const sources = await this.registry.list(this.ds);
    return {
      today,
      items: sources.map((s) => {
        const mine = rows.filter((r) => r.source === s.id);
        const last = mine.sort((a, b) =>
          lastDay(mustParsePeriod(b.period)).localeCompare(lastDay(mustParsePeriod(a.period))),
        )[0];
        const received = mine.reduce<Date | null>(
          (m, r) => (!m || r.received > m ? r.received : m),
          null,
        );
        return {
          ...view(s),
          lastReceivedAt: received?.toISOString() ?? null,
          lastPeriod: last?.period ?? null,
          feeds: mine.reduce((n, r) => n + Number(r.feeds), 0),
          ...(s.active
            ? lateness(s.reports, last?.period ?? null, today)
            : { due: null, dueBy: null, late: false }),
        };
      }),
    };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One registration, with its mapping profile' })
  @ApiOkResponse({ type: SourceView })
  async get(@Param('id') id: string) {
    return view(await this.mustGet(id));
  }

  @Post()
  @Needs('admin')
  @ApiBearerAuth()
  @ApiOperation({
    summary:
      'Register a source; creates its own topic lgsp.feeds.v1.<id>, and on a secured broker its SCRAM credential and ACLs',
  })
  @ApiCreatedResponse({
    type: SourceCreated,
    description: 'the registration; on a secured broker also its Kafka credential, shown once',
  })
  async create(@Body() body: SourceDto, @Req() req: RequestWithPrincipal) {
    const mapping = this.checkMapping(body.mapping);
    this.checkExpects(body.expects, body.measures);
    const created = await this.registry.create(this.ds, {
      id: body.id,
      kind: body.kind,
      displayName: body.displayName,
      measures: body.measures,
      areas: body.areas ?? '*',
      ...(body.expects ? { expects: body.expects } : {}),
      active: body.active ?? true,
      ...(mapping ? { mapping } : {}),
      reports: { every: body.reports.every, dueDays: body.reports.dueDays },
    });
    if (!created)
      throw new ConflictException(
        `source "${body.id}" is already registered: change it with PATCH /v1/sources/${body.id}`,
      );
    await ensureTopics(this.kafka, [sourceTopicSpec(body.id)]);
    const registration = view(await this.mustGet(body.id));
    await this.log.record(req, 'source.create', `source:${body.id}`, { after: registration });
    if (!this.access.enabled) return registration;
    try {
      return { ...registration, kafka: await this.access.grant(body.id) };
    } catch (e) {
      throw new BadGatewayException(
        `source "${body.id}" is registered, but its Kafka credential could not be made (${(e as Error).message}); try again with POST /v1/sources/${body.id}/kafka-credential`,
      );
    }
  }

  @Post(':id/kafka-credential')
  @Needs('admin')
  @ApiBearerAuth()
  @ApiOperation({
    summary:
      "A new SCRAM password for the source's principal on a secured broker (the old one stops working); shown once",
  })
  @ApiCreatedResponse({ type: KafkaCredentialView })
  async rotateKafkaCredential(@Param('id') id: string, @Req() req: RequestWithPrincipal) {
    const s = await this.mustGet(id);
    if (!this.access.enabled)
      throw new ConflictException(
        'the hub runs on a broker without SASL: there is no Kafka credential to issue (see `npm start -- --secure`)',
      );
    const credential = await this.access.grant(id);
    if (!s.active) await this.access.revoke(id);
    await this.log.record(req, 'source.kafka-credential', `source:${id}`, {
      after: { username: credential.username, topic: credential.topic },
    });
    return credential;
  }

  @Delete(':id/kafka-credential')
  @Needs('admin')
  @ApiBearerAuth()
  @HttpCode(200)
  @ApiOkResponse({ type: CredentialRemoved })
  @ApiOperation({
    summary:
      "Remove the source's Kafka access on a secured broker: its ACLs and its SCRAM credential",
  })
  async removeKafkaCredential(@Param('id') id: string, @Req() req: RequestWithPrincipal) {
    await this.mustGet(id);
    if (!this.access.enabled)
      throw new ConflictException(
        'the hub runs on a broker without SASL: there is no Kafka credential',
      );
    await this.access.revoke(id, true);
    await this.log.record(req, 'source.kafka-credential.remove', `source:${id}`, {
      before: { username: id },
      after: null,
    });
    return { removed: id };
  }

  @Patch(':id')
  @Needs('admin')
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Change a registration: measures, areas, expectations, active, mapping',
  })
  @ApiOkResponse({ type: SourceView })
  async update(
    @Param('id') id: string,
    @Body() body: SourcePatchDto,
    @Req() req: RequestWithPrincipal,
  ) {
    const current = await this.mustGet(id);
    const mapping = this.checkMapping(body.mapping);
    this.checkExpects(body.expects, body.measures ?? current.measures);
    const { mapping: _ignored, ...rest } = body;
    await this.registry.update(this.ds, id, {
      ...rest,
      ...(body.areas !== undefined ? { areas: body.areas } : {}),
      ...(mapping ? { mapping } : {}),
    });
    // Suspended: its principal may write nothing; active again: its own topic.
    if (this.access.enabled && body.active !== undefined && body.active !== current.active) {
      if (body.active) await this.access.allow(id);
      else await this.access.revoke(id);
    }
    const after = view(await this.mustGet(id));
    await this.log.record(req, 'source.update', `source:${id}`, { before: view(current), after });
    return after;
  }

  @Put(':id/mapping')
  @Needs('admin')
  @ApiBearerAuth()
  @ApiOperation({ summary: "Replace the source's mapping profile" })
  @ApiOkResponse({ type: SourceView })
  async setMapping(
    @Param('id') id: string,
    @Body() body: Record<string, unknown>,
    @Req() req: RequestWithPrincipal,
  ) {
    const before = await this.mustGet(id);
    const mapping = this.checkMapping(body)!;
    await this.registry.update(this.ds, id, { mapping });
    const after = await this.mustGet(id);
    await this.log.record(req, 'source.mapping', `source:${id}`, {
      before: before.mapping ?? null,
      after: after.mapping ?? null,
    });
    return view(after);
  }

  @Delete(':id/mapping')
  @Needs('admin')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Remove the mapping profile: the source must send canonical feeds' })
  @ApiOkResponse({ type: SourceView })
  async removeMapping(@Param('id') id: string, @Req() req: RequestWithPrincipal) {
    const before = await this.mustGet(id);
    await this.registry.update(this.ds, id, { mapping: null });
    await this.log.record(req, 'source.mapping', `source:${id}`, {
      before: before.mapping ?? null,
      after: null,
    });
    return view(await this.mustGet(id));
  }

  @Post(':id/keys')
  @Needs('admin')
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Issue an API key for the HTTP ingest; it is shown once, only its hash is kept',
  })
  @ApiCreatedResponse({ type: KeyIssued })
  async issueKey(
    @Param('id') id: string,
    @Body() body: KeyRequestDto,
    @Req() req: RequestWithPrincipal,
  ) {
    await this.mustGet(id);
    const issued = await this.registry.issueKey(this.ds, id, body.label);
    await this.log.record(req, 'source.key.issue', `source:${id}`, {
      after: { keyId: issued.keyId, label: body.label ?? null },
    });
    return issued;
  }

  @Get(':id/keys')
  @ApiOkResponse({ type: KeyList })
  @Needs('admin')
  @ApiBearerAuth()
  @ApiOperation({ summary: "The source's keys (ids and dates, never the secrets)" })
  async keys(@Param('id') id: string) {
    await this.mustGet(id);
    return { items: await this.registry.listKeys(this.ds, id) };
  }

  @Delete(':id/keys/:keyId')
  @Needs('admin')
  @ApiBearerAuth()
  @HttpCode(200)
  @ApiOkResponse({ type: KeyRevoked })
  @ApiOperation({ summary: 'Revoke a key at once (rotate: issue a new one first)' })
  async revokeKey(
    @Param('id') id: string,
    @Param('keyId') keyId: string,
    @Req() req: RequestWithPrincipal,
  ) {
    if (!(await this.registry.revokeKey(this.ds, id, keyId)))
      throw new NotFoundException(`source "${id}" has no live key "${keyId}"`);
    await this.log.record(req, 'source.key.revoke', `source:${id}`, { before: { keyId } });
    return { revoked: keyId };
  }

  private async mustGet(id: string): Promise<StoredSource> {
    const s = await this.registry.get(this.ds, id);
    if (!s)
      throw new NotFoundException(
        `no source "${id}": register it with POST /v1/sources (npm run hub -- sources add)`,
      );
    return s;
  }

  private checkMapping(mapping: unknown): MappingProfile | undefined {
    if (mapping === undefined) return undefined;
    const problems = checkMappingProfile(mapping);
    if (problems.length)
      throw new BadRequestException({ message: 'mapping profile not valid', errors: problems });
    return mapping as MappingProfile;
  }

  private checkExpects(expects: string[] | undefined, measures: readonly string[]): void {
    const extra = (expects ?? []).filter((m) => !measures.includes(m));
    if (extra.length)
      throw new BadRequestException(
        `expects lists measures the source may not report: ${extra.join(', ')}`,
      );
  }
}

function view(s: StoredSource) {
  return {
    id: s.id,
    kind: s.kind,
    displayName: s.displayName,
    measures: s.measures,
    areas: s.areas,
    expects: s.expects ?? s.measures,
    active: s.active,
    reports: s.reports,
    mapping: s.mapping ?? null,
    topic: sourceTopic(s.id),
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}
