import { ADMIN_UNITS } from '@app/service';
import type { AdminUnits } from '@app/catalogue';
import { AccessStore, DATA_SOURCE, ROLES, type Role } from '@app/database';
import {
  BadRequestException,
  Body,
  Controller,
  Delete,
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
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsRFC3339,
  IsString,
  Length,
  Matches,
  Max,
  Min,
} from 'class-validator';
import type { DataSource } from 'typeorm';
import { PageQueryDto } from '../common/page-query.dto.js';
import { Needs, type RequestWithPrincipal } from '../common/roles.guard.js';
import { AdminLog } from './admin-log.service.js';
import { AdminActionList, TokenIssued, TokenList, TokenRevoked } from './access.responses.js';

export class TokenDto {
  @ApiProperty({ example: 'warehouse-etl' })
  @IsString()
  @Length(1, 100)
  name!: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role!: Role;

  /**
   * For a reader or an approver: the 2025 provinces it may read and approve (their 2008 units
   * too); all when absent.
   */
  @ApiPropertyOptional({ example: ['37'] })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @ArrayMaxSize(34)
  @Matches(/^\d{2}$/, { each: true, message: 'provinces are 2-digit codes of the 2025 lists' })
  provinces?: string[];

  /** When it stops working (RFC 3339); or `expiresInDays`. Never, when neither is given. */
  @ApiPropertyOptional({ example: '2027-06-30T00:00:00+07:00' })
  @IsOptional()
  @IsRFC3339()
  expiresAt?: string;

  @ApiPropertyOptional({ example: 90 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(3650)
  expiresInDays?: number;
}

export class ActionsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'ADMIN_TOKEN' })
  @IsOptional()
  @IsString()
  actor?: string;

  @ApiPropertyOptional({ example: 'source:itel' })
  @IsOptional()
  @IsString()
  target?: string;
}

/**
 * People and roles (issue 24): named tokens, stored hashed, with a role and an expiry, and
 * the log of what admins did. Only an admin manages them.
 */
@ApiTags('access')
@ApiBearerAuth()
@Controller('v1')
@Needs('admin')
export class TokensController {
  constructor(
    private readonly store: AccessStore,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(ADMIN_UNITS) private readonly units: AdminUnits,
    private readonly log: AdminLog,
  ) {}

  @Post('tokens')
  @ApiOperation({ summary: 'Issue a named token with a role; the token is shown once' })
  @ApiCreatedResponse({ type: TokenIssued })
  async create(@Body() body: TokenDto, @Req() req: RequestWithPrincipal) {
    if (body.provinces && body.role !== 'reader' && body.role !== 'approver')
      throw new BadRequestException('only a reader or an approver token is limited to provinces');
    for (const p of body.provinces ?? [])
      if (this.units.get('2025', p)?.level !== 'province')
        throw new BadRequestException(`${p} is not a province of the 2025 lists`);
    const expiresAt = body.expiresAt
      ? new Date(body.expiresAt)
      : body.expiresInDays
        ? new Date(Date.now() + body.expiresInDays * 86_400_000)
        : null;
    const { token, item } = await this.store.create(this.ds, {
      name: body.name,
      role: body.role,
      provinces: body.provinces ?? null,
      expiresAt,
      createdBy: req.principal!.name,
    });
    await this.log.record(req, 'token.create', `token:${item.id}`, { after: item });
    return { token, ...item };
  }

  @Get('tokens')
  @ApiOperation({ summary: 'Every token: names, roles, dates; never the secrets' })
  @ApiOkResponse({ type: TokenList })
  async list() {
    return { items: await this.store.list(this.ds) };
  }

  @Post('tokens/:id/rotate')
  @ApiCreatedResponse({ type: TokenIssued })
  @ApiOperation({
    summary: 'A new secret for the same name, role and provinces; the old one stops working',
  })
  async rotate(@Param('id') id: string, @Req() req: RequestWithPrincipal) {
    const before = await this.mustGet(id);
    const fresh = await this.store.rotate(this.ds, id, req.principal!.name);
    if (!fresh) throw new NotFoundException(`token ${id} is revoked: issue a new one`);
    await this.log.record(req, 'token.rotate', `token:${id}`, { before, after: fresh.item });
    return { token: fresh.token, ...fresh.item };
  }

  @Delete('tokens/:id')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenRevoked })
  @ApiOperation({ summary: 'Revoke a token at once' })
  async revoke(@Param('id') id: string, @Req() req: RequestWithPrincipal) {
    const before = await this.mustGet(id);
    if (!(await this.store.revoke(this.ds, id)))
      throw new NotFoundException(`token ${id} is already revoked`);
    await this.log.record(req, 'token.revoke', `token:${id}`, {
      before,
      after: await this.store.get(this.ds, id),
    });
    return { revoked: id };
  }

  @Get('admin-actions')
  @ApiOperation({ summary: 'What admins did: who, what, on what, when, before and after' })
  @ApiOkResponse({ type: AdminActionList })
  async actions(@Query() q: ActionsQueryDto) {
    return { items: await this.store.actions(this.ds, q) };
  }

  private async mustGet(id: string) {
    const t = /^\d{1,18}$/.test(id) ? await this.store.get(this.ds, id) : undefined;
    if (!t) throw new NotFoundException(`no token ${id}: list them with GET /v1/tokens`);
    return t;
  }
}
