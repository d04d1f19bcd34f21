import {
  applyDecorators,
  Controller,
  Get,
  HttpStatus,
  Inject,
  Logger,
  Post,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { HUB_CONFIG, type HubConfig } from '@app/config';
import {
  type AcceptedFeed,
  csvPath,
  csvToFeed,
  dlqHeaders,
  FEED_ERROR,
  FEED_SCHEMA,
  feedJsonSchema,
  type FeedError,
  type FeedRules,
  HUB_HEADERS,
  TOPICS,
  validateFeed,
} from '@app/contract';
import { AuditStore, DATA_SOURCE, type ExchangeEntry, RegistryStore } from '@app/database';
import { METRICS } from '@app/service';
import type { IncomingMessage } from 'node:http';
import type { DataSource } from 'typeorm';
import { NormaliseFeedsHandler, sha256Hex } from '../feeds/normalise-feeds.handler.js';
import { FeedPublisher } from './feed-publisher.js';
import { FeedReceipt, REFUSALS } from './feed.responses.js';
import { BodyTooLargeError, readBody } from './read-body.js';

/** What the controller needs of Express's request and response (no @types/express). */
type Request = IncomingMessage & { readonly query: Record<string, unknown> };
interface Response {
  status(code: number): { json(body: unknown): void };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

interface Outcome {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/**
 * The HTTP edge, for sources that cannot speak Kafka. A feed is answered 202 only once it is
 * on `lgsp.feeds.v1` with every replica's acknowledgement; every request, refused or not, is
 * in the audit log, and a refused feed is on the DLQ with its reasons (except when no key
 * vouched for it, or its body was never read).
 */
/** The answers of both feed endpoints. */
const FeedAnswers = (): MethodDecorator =>
  applyDecorators(
    ApiBearerAuth(),
    ApiAcceptedResponse({ type: FeedReceipt, description: 'on lgsp.feeds.v1: accepted' }),
    ApiOkResponse({ type: FeedReceipt, description: 'a duplicate: it changes nothing' }),
    ...REFUSALS.map(([status, description]) =>
      ApiResponse({ status, type: FeedReceipt, description }),
    ),
  );

@ApiTags('feeds')
@Controller('v1/feeds')
export class FeedsHttpController {
  private readonly log = new Logger(FeedsHttpController.name);

  constructor(
    private readonly registry: RegistryStore,
    private readonly audit: AuditStore,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    private readonly feeds: NormaliseFeedsHandler,
    private readonly publisher: FeedPublisher,
  ) {}

  /** The JSON Schema of `lgsp.feed.v1`, for producers to check their feeds before sending. */
  @Get('schema')
  @ApiOperation({ summary: 'The JSON Schema (2020-12) of a feed on lgsp.feed.v1' })
  @ApiOkResponse({ description: 'a JSON Schema document', schema: { type: 'object' } })
  schema(): Record<string, unknown> {
    return FEED_JSON_SCHEMA;
  }

  /** A feed in the contract's JSON (`lgsp.feed.v1`), in the source's names if it has a profile. */
  @Post()
  @ApiOperation({
    summary: "A feed in the contract's JSON, or in the source's names if it has a mapping profile",
  })
  @ApiConsumes('application/json')
  @ApiBody({ schema: { $ref: '#/components/schemas/Feed' } })
  @FeedAnswers()
  async json(@Req() req: Request, @Res() res: Response): Promise<void> {
    await this.receive(req, res, FEED_ERROR.malformedJson, (text, raw) => ({ raw, text }));
  }

  /**
   * One observation per row: area, measure, value or items (and qualifier); `feedId`, `period`,
   * `sentAt` and `status` as query parameters or columns.
   */
  @Post('csv')
  @ApiOperation({ summary: 'A feed as CSV: one observation per row' })
  @ApiConsumes('text/csv')
  @ApiBody({
    schema: { type: 'string', example: 'area,measure,value\n37,mbb_subscriptions,694250\n' },
  })
  @ApiQuery({ name: 'feedId', required: false })
  @ApiQuery({ name: 'period', required: false, example: '2024-06' })
  @ApiQuery({ name: 'sentAt', required: false, example: '2024-07-05T08:00:00+07:00' })
  @ApiQuery({ name: 'status', required: false, enum: ['actual', 'estimate', 'provisional'] })
  @FeedAnswers()
  async csv(@Req() req: Request, @Res() res: Response): Promise<void> {
    await this.receive(req, res, FEED_ERROR.malformedCsv, (text, raw, source, rules) => {
      const q = req.query;
      const given = Object.fromEntries(
        (['feedId', 'period', 'sentAt', 'status'] as const).flatMap((k) =>
          typeof q[k] === 'string' ? [[k, q[k]]] : [],
        ),
      );
      const r = csvToFeed(text, { ...given, source }, rules.registry.get(source)?.mapping);
      if (!r.ok) return { raw, errors: r.errors };
      // What goes on: the feed in the source's own names, so a replay after a fix maps it again.
      const json = JSON.stringify(r.plain);
      return { raw: Buffer.from(json), text: json, csv: true };
    });
  }

  private async receive(
    req: Request,
    res: Response,
    notText: FeedError['code'],
    read: Reader,
  ): Promise<void> {
    const outcome = await this.handle(req, notText, read).catch((e: unknown): Outcome => {
      this.log.error(`HTTP ingest failed: ${(e as Error).message}`);
      return {
        status: HttpStatus.SERVICE_UNAVAILABLE,
        body: {
          error: 'UNAVAILABLE',
          retriable: true,
          message: `the hub could not take the feed now (${(e as Error).message}); nothing was stored, send it again`,
        },
      };
    });
    METRICS.httpFeeds.inc({ status: String(outcome.status) });
    res.status(outcome.status).json(outcome.body);
  }

  private async handle(req: Request, notText: FeedError['code'], read: Reader): Promise<Outcome> {
    const size = Number(req.headers['content-length'] ?? 0) || 0;

    const key = apiKey(req);
    const auth = key
      ? await this.registry.authenticate(this.ds, key)
      : ({ ok: false, reason: 'no API key' } as const);
    if (!auth.ok)
      return this.refuse(HttpStatus.UNAUTHORIZED, [unauthenticated(auth.reason)], {
        source: null,
        sizeBytes: size,
      });
    const source = auth.sourceId;

    let body: Buffer;
    try {
      body = await readBody(req, this.config.HTTP_FEED_MAX_BYTES);
    } catch (e) {
      if (!(e instanceof BodyTooLargeError)) throw e;
      req.resume();
      return this.refuse(
        HttpStatus.PAYLOAD_TOO_LARGE,
        [
          {
            code: FEED_ERROR.bodyTooLarge,
            path: '',
            message: `the body is over the limit of ${e.limit} bytes (HTTP_FEED_MAX_BYTES); send at most 10,000 observations per feed, split larger reports into several feeds`,
          },
        ],
        { source, sizeBytes: size },
      );
    }
    const received: Pick<ExchangeEntry, 'sizeBytes' | 'contentSha256'> = {
      sizeBytes: body.length,
      contentSha256: sha256Hex(body),
    };

    // The registry of this moment, read once for the whole request.
    const rules = await this.feeds.rules();
    const text = decodeUtf8(body);
    const parsed: Parsed =
      text === undefined
        ? { raw: body, errors: [malformed(notText, 'the body is not valid UTF-8')] }
        : read(text, body, source, rules);
    let feed: AcceptedFeed | undefined;
    let errors: FeedError[];
    let feedId: string | null = null;
    if ('errors' in parsed) errors = parsed.errors;
    else {
      const verdict = validateFeed(parsed.text, rules, {
        channel: 'http',
        identity: source,
      });
      if (verdict.ok) {
        feed = verdict.feed;
        errors = [];
      } else {
        errors = parsed.csv
          ? verdict.errors.map((e) => ({ ...e, path: csvPath(e.path) }))
          : verdict.errors;
        feedId = verdict.feedId ?? null;
      }
    }

    if (!feed) {
      const forbidden = errors.every((e) => e.code === FEED_ERROR.notAuthorised);
      return this.refuse(forbidden ? HttpStatus.FORBIDDEN : HttpStatus.BAD_REQUEST, errors, {
        source,
        feedId,
        ...received,
        dlq: { payload: parsed.raw, replayable: !('errors' in parsed) },
      });
    }

    const seen: unknown[] = await this.ds.query(
      `SELECT 1 FROM feed WHERE source = $1 AND feed_id = $2`,
      [feed.source, feed.feedId],
    );
    if (seen.length > 0) {
      const exchangeId = await this.audit.recordOne(this.ds, {
        ...HTTP_EXCHANGE,
        ...received,
        source,
        feedId: feed.feedId,
        outcome: 'duplicate',
        observations: feed.observations.length,
      });
      return {
        status: HttpStatus.OK,
        body: {
          exchangeId,
          feedId: feed.feedId,
          outcome: 'duplicate',
          message: `feed ${feed.feedId} of ${source} was received before; it changes nothing. A correction needs a new feedId and a later sentAt`,
        },
      };
    }

    const exchangeId = await this.audit.recordOne(this.ds, {
      ...HTTP_EXCHANGE,
      ...received,
      source,
      feedId: feed.feedId,
      outcome: 'validated',
      observations: feed.observations.length,
    });
    await this.publisher.send(TOPICS.feeds, {
      key: source,
      value: JSON.stringify({
        schema: FEED_SCHEMA,
        feedId: feed.feedId,
        source: feed.source,
        sentAt: feed.sentAt,
        period: feed.period,
        status: feed.status,
        observations: feed.observations,
      }),
      headers: { [HUB_HEADERS.channel]: 'http', [HUB_HEADERS.exchangeId]: exchangeId },
    });
    return {
      status: HttpStatus.ACCEPTED,
      body: {
        exchangeId,
        feedId: feed.feedId,
        outcome: 'accepted',
        observations: feed.observations.length,
        message: `feed ${feed.feedId} is on ${TOPICS.feeds}; follow it at GET /v1/exchanges?feedId=${feed.feedId} on the api`,
      },
    };
  }

  /**
   * The one way a feed is refused: in the audit log as rejected with every reason and, once
   * its body was read and a key vouched for it, on the DLQ (index and topic) for a replay.
   */
  private async refuse(
    status: HttpStatus,
    errors: FeedError[],
    what: {
      source: string | null;
      feedId?: string | null;
      sizeBytes: number;
      contentSha256?: string | null;
      dlq?: { payload: Buffer; replayable: boolean };
    },
  ): Promise<Outcome> {
    const feedId = what.feedId ?? null;
    const exchangeId = await this.audit.recordOne(this.ds, {
      ...HTTP_EXCHANGE,
      source: what.source,
      feedId,
      sizeBytes: what.sizeBytes,
      contentSha256: what.contentSha256 ?? null,
      outcome: 'rejected',
      errorCode: errors[0]!.code,
      errors,
    });
    if (what.dlq && what.source) {
      await this.audit.addToDlq(this.ds, [
        {
          exchangeId,
          source: what.source,
          feedId,
          topic: null,
          key: what.source,
          payload: what.dlq.payload,
          replayable: what.dlq.replayable,
          errorCode: errors[0]!.code,
          errors,
          rejectedBy: 'ingest-http',
        },
      ]);
      await this.publisher.send(TOPICS.dlq, {
        key: what.source,
        value: what.dlq.payload,
        headers: dlqHeaders(errors, {}, 'ingest-http'),
      });
    }
    const first = errors[0]!;
    return {
      status,
      body: {
        exchangeId,
        feedId,
        errors,
        message: `the feed was refused with ${errors.length} error(s); nothing of it was stored. First: ${first.path ? `${first.path}: ` : ''}${first.message}`,
      },
    };
  }
}

/** Generated once: the DTOs do not change while the service runs. */
const FEED_JSON_SCHEMA = feedJsonSchema();

/** Where an HTTP feed comes from, for the audit log. */
const HTTP_EXCHANGE = { channel: 'http', topic: null, partition: null, offset: null } as const;

type Parsed =
  | { readonly raw: Buffer; readonly errors: FeedError[] }
  | { readonly raw: Buffer; readonly text: string; readonly csv?: boolean };

/** Turns a decoded body into the feed text to validate, or errors; `raw` is what the DLQ keeps. */
type Reader = (text: string, raw: Buffer, source: string, rules: FeedRules) => Parsed;

function apiKey(req: Request): string | undefined {
  const h = req.headers.authorization;
  if (h?.startsWith('Bearer ')) return h.slice(7).trim();
  const x = req.headers['x-api-key'];
  return typeof x === 'string' ? x.trim() : undefined;
}

function unauthenticated(reason: string): FeedError {
  return {
    code: FEED_ERROR.unauthenticated,
    path: '',
    message: `${reason}: send the source's API key as "Authorization: Bearer lgsk_..." (the hub's admins issue keys with "npm run hub -- sources key create <source>")`,
  };
}

function decodeUtf8(body: Buffer): string | undefined {
  try {
    return utf8.decode(body);
  } catch {
    return undefined;
  }
}

function malformed(code: FeedError['code'], message: string): FeedError {
  return { code, path: '', message };
}
