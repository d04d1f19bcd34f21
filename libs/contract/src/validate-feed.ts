import {
  type AdminUnits,
  type SourceRegistry,
  MEASURES,
  boundarySetOf,
  lastDay,
  parsePeriod,
} from '@app/catalogue';
import { plainToInstance } from 'class-transformer';
import { type ValidationError, validateSync } from 'class-validator';
import {
  ACCEPTED_FEED_SCHEMA,
  type AcceptedFeed,
  type AcceptedObservation,
} from './accepted-feed.js';
import { FEED_ERROR, type FeedError } from './errors.js';
import { FeedDto } from './feed.dto.js';

export interface FeedRules {
  readonly units: AdminUnits;
  readonly registry: SourceRegistry;
}

export interface FeedOrigin {
  readonly channel: 'kafka' | 'http';
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: string;
  /** The record key; on the shared topic it must name the feed's source. */
  readonly key?: string;
}

export type FeedVerdict =
  | { readonly ok: true; readonly feed: AcceptedFeed }
  | {
      readonly ok: false;
      readonly errors: FeedError[];
      /** What could be read of the feed, for logs and the DLQ. */
      readonly source?: string;
      readonly feedId?: string;
    };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Validates a raw feed record against contract v1 and the registry, collecting every error,
 * and returns it in canonical form. Pure: no I/O.
 */
export function validateFeed(
  raw: Uint8Array | string,
  rules: FeedRules,
  origin: FeedOrigin,
  receivedAt: Date = new Date(),
): FeedVerdict {
  let text: string;
  try {
    text = typeof raw === 'string' ? raw : utf8.decode(raw);
  } catch {
    return reject([
      { code: FEED_ERROR.malformedJson, path: '', message: 'record is not valid UTF-8' },
    ]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return reject([
      {
        code: FEED_ERROR.malformedJson,
        path: '',
        message: `record is not JSON: ${(e as Error).message}`,
      },
    ]);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return reject([
      { code: FEED_ERROR.malformedJson, path: '', message: 'a feed must be a JSON object' },
    ]);
  }
  const plain = json as Record<string, unknown>;
  const dto = plainToInstance(FeedDto, plain);
  const errors: FeedError[] = flatten(
    validateSync(dto, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true }),
  );
  const bad = new Set(errors.map((e) => e.path));
  const source = typeof plain.source === 'string' ? plain.source : undefined;
  const feedId = typeof plain.feedId === 'string' ? plain.feedId : undefined;

  // The registry: who may send what.
  const registration = source ? rules.registry.get(source) : undefined;
  if (source && !bad.has('source')) {
    if (!registration)
      errors.push({
        code: FEED_ERROR.unknownSource,
        path: 'source',
        message: `source "${source}" is not registered`,
      });
    else if (!registration.active)
      errors.push({
        code: FEED_ERROR.sourceSuspended,
        path: 'source',
        message: `source "${source}" is suspended`,
      });
  }
  if (origin.key !== undefined && source !== undefined && origin.key !== source)
    errors.push({
      code: FEED_ERROR.keyMismatch,
      path: 'source',
      message: `record key "${origin.key}" does not name the feed's source "${source}"`,
    });

  const period = bad.has('period') ? undefined : parsePeriod(dto.period);
  const bs = period ? boundarySetOf(period) : undefined;
  const seen = new Map<string, number>();
  const observations: AcceptedObservation[] = [];
  const list = Array.isArray(plain.observations) ? (plain.observations as unknown[]) : [];
  if (Array.isArray(dto.observations) && list.length <= 10_000) {
    dto.observations.forEach((o, i) => {
      const at = `observations[${i}]`;
      const rawObs = list[i];
      if (typeof rawObs !== 'object' || rawObs === null) return;
      const has = (f: string): boolean => Object.prototype.hasOwnProperty.call(rawObs, f);
      const def = typeof o.measure === 'string' ? MEASURES[o.measure] : undefined;
      if (typeof o.measure === 'string' && !bad.has(`${at}.measure`)) {
        if (!def)
          errors.push({
            code: FEED_ERROR.unknownMeasure,
            path: `${at}.measure`,
            message: `unknown measure "${o.measure}"${suggest(o.measure, Object.keys(MEASURES))}`,
          });
        else if (registration && !registration.measures.includes(o.measure))
          errors.push({
            code: FEED_ERROR.measureNotAllowed,
            path: `${at}.measure`,
            message: `source "${source}" is not registered to report ${o.measure}`,
          });
      }
      if (has('value') === has('items'))
        errors.push({
          code: FEED_ERROR.valueKindMismatch,
          path: at,
          message: 'an observation has exactly one of value or items',
        });
      else if (def) {
        const wantsItems = def.kind === 'item_set';
        if (wantsItems !== has('items'))
          errors.push({
            code: FEED_ERROR.valueKindMismatch,
            path: at,
            message: wantsItems
              ? `${o.measure} is a set of codes: send items, not value`
              : `${o.measure} is a number: send value, not items`,
          });
      }
      if (typeof o.area === 'string' && !bad.has(`${at}.area`) && bs && period) {
        const unit = rules.units.get(bs, o.area);
        if (!unit)
          errors.push({
            code: FEED_ERROR.unknownArea,
            path: `${at}.area`,
            message: `area "${o.area}" is not a unit of the ${bs === '2008' ? '63-province (pre-2025-07-01)' : '34-province (2025-07-01 on)'} lists valid on ${lastDay(period)}, the last day of ${period.code}`,
          });
        else if (
          registration &&
          registration.areas !== '*' &&
          !registration.areas.includes(unit.province)
        )
          errors.push({
            code: FEED_ERROR.measureNotAllowed,
            path: `${at}.area`,
            message: `source "${source}" is not registered for province ${unit.province}`,
          });
      }
      const identity = `${o.area}\u0000${o.measure}`;
      const first = seen.get(identity);
      if (first !== undefined)
        errors.push({
          code: FEED_ERROR.duplicateObservation,
          path: at,
          message: `${o.measure} for area ${o.area} is already in observations[${first}]`,
        });
      else seen.set(identity, i);
      observations.push({
        area: o.area,
        measure: o.measure,
        ...(has('value') ? { value: o.value ?? null } : { items: o.items ?? null }),
        ...(o.qualifier ? { qualifier: o.qualifier } : {}),
      });
    });
  }

  if (errors.length > 0) return reject(errors, source, feedId);
  return {
    ok: true,
    feed: {
      schema: ACCEPTED_FEED_SCHEMA,
      source: dto.source,
      feedId: dto.feedId,
      sentAt: new Date(dto.sentAt).toISOString(),
      period: dto.period,
      status: dto.status ?? 'actual',
      observations,
      receivedAt: receivedAt.toISOString(),
      origin: {
        channel: origin.channel,
        ...(origin.topic !== undefined ? { topic: origin.topic } : {}),
        ...(origin.partition !== undefined ? { partition: origin.partition } : {}),
        ...(origin.offset !== undefined ? { offset: origin.offset } : {}),
      },
    },
  };
}

function reject(errors: FeedError[], source?: string, feedId?: string): FeedVerdict {
  return {
    ok: false,
    errors,
    ...(source !== undefined ? { source } : {}),
    ...(feedId !== undefined ? { feedId } : {}),
  };
}

function flatten(errors: ValidationError[], prefix = ''): FeedError[] {
  const out: FeedError[] = [];
  for (const e of errors) {
    const path = /^\d+$/.test(e.property)
      ? `${prefix}[${e.property}]`
      : prefix
        ? `${prefix}.${e.property}`
        : e.property;
    for (const [rule, message] of Object.entries(e.constraints ?? {})) {
      out.push({
        code: rule === 'whitelistValidation' ? FEED_ERROR.unknownField : FEED_ERROR.invalidField,
        path,
        message: rule === 'whitelistValidation' ? `unknown field "${e.property}"` : message,
      });
    }
    if (e.children?.length) out.push(...flatten(e.children, path));
  }
  return out;
}

/** ", did you mean ...?" with the closest known names by edit distance. */
export function suggest(name: string, known: readonly string[]): string {
  const scored = known
    .map((k) => [k, editDistance(name.toLowerCase(), k.toLowerCase())] as const)
    .sort((a, b) => a[1] - b[1])
    .slice(0, 3)
    .filter(([, d]) => d <= Math.max(3, name.length / 2));
  return scored.length ? `; did you mean ${scored.map(([k]) => `"${k}"`).join(', ')}?` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}
