import {
  type AdminUnits,
  AreaNames,
  type BoundarySet,
  type SourceRegistry,
  MEASURES,
  boundarySetOf,
  lastDay,
  monthSpan,
  parsePeriod,
} from '@app/catalogue';
import { type ValidationError, validateSync } from 'class-validator';
import {
  ACCEPTED_FEED_SCHEMA,
  type AcceptedFeed,
  type AcceptedObservation,
} from './accepted-feed.js';
import { FEED_ERROR, type FeedError } from './errors.js';
import {
  FeedDto,
  FeedEnvelopeDto,
  MAX_OBSERVATIONS,
  ObservationDto,
  observationIsValid,
} from './feed.dto.js';
import { type HintBudget, hint, MAX_HINTS, mapFeed } from './mapping.js';
import { parseJson } from './safe-json.js';

export interface FeedRules {
  readonly units: AdminUnits;
  readonly registry: SourceRegistry;
  /** The name index of a boundary set, for sources whose profile sends area names. */
  readonly names: (bs: BoundarySet) => AreaNames;
}

/** Rules over a registry, with name indexes built once per boundary set and shared. */
export function feedRules(
  units: AdminUnits,
  registry: SourceRegistry,
  cache: Map<BoundarySet, AreaNames> = new Map(),
): FeedRules {
  return {
    units,
    registry,
    names: (bs) => {
      let n = cache.get(bs);
      if (!n) cache.set(bs, (n = new AreaNames(units, bs)));
      return n;
    },
  };
}

export interface FeedOrigin {
  readonly channel: FeedChannel;
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: string;
  /** The record key; on the shared topic it must name the feed's source. */
  readonly key?: string;
  /**
   * The source the channel vouches for: the owner of a per-source topic, or of an API key.
   * A feed that claims another source is not authorised.
   */
  readonly identity?: string;
  /** The audit log's record of this exchange, carried on so later stages can complete it. */
  readonly exchangeId?: string;
}

export type FeedChannel = 'kafka' | 'http' | 'replay';

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
 * Larger values are typing or unit mistakes, not figures: Vietnam has about 10^8 people and
 * subscriptions, its telecom revenue is about 3 x 10^14 VND a year, speeds are Mbit/s.
 */
const PLAUSIBLE_MAX: Partial<Record<string, number>> = {
  count: 1e10,
  amount: 1e16,
  statistic: 1e6,
};

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
  const parsed = parseJson(text);
  if (!parsed.ok)
    return reject([
      {
        code: FEED_ERROR.malformedJson,
        path: '',
        message: `record is not JSON: ${parsed.message}`,
      },
    ]);
  const json = parsed.value;
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return reject([
      { code: FEED_ERROR.malformedJson, path: '', message: 'a feed must be a JSON object' },
    ]);
  }
  let plain = json as Record<string, unknown>;
  const source = typeof plain.source === 'string' ? plain.source : undefined;
  const feedId = typeof plain.feedId === 'string' ? plain.feedId : undefined;
  const registration = source ? rules.registry.get(source) : undefined;
  const hints: HintBudget = { left: MAX_HINTS };

  // The source's own names and units, when it has a mapping profile.
  let mappingErrors: FeedError[] = [];
  if (registration?.mapping) {
    const p = typeof plain.period === 'string' ? parsePeriod(plain.period) : undefined;
    const mapped = mapFeed(
      plain,
      registration.mapping,
      p ? rules.names(boundarySetOf(p)) : undefined,
      hints,
    );
    plain = mapped.plain;
    mappingErrors = mapped.errors;
  }
  const mappedPaths = new Set(mappingErrors.map((e) => e.path));

  // Observations that pass the compiled form of their rules skip class-validator's
  // per-observation pass (the feed's own fields still go through it); a feed with any other
  // goes through it whole, for every message.
  const listed = plain.observations;
  const fast =
    Array.isArray(listed) && listed.length <= MAX_OBSERVATIONS && listed.every(observationIsValid);
  // On the fast path every observation already has only known fields.
  const errors: FeedError[] = [...mappingErrors, ...unknownFields(plain, !fast)];
  // Observations that are no list (or too long a one) get the envelope's rules only: walking
  // them is what class-validator must not do with a record of any shape.
  const walkable = Array.isArray(listed) && listed.length <= MAX_OBSERVATIONS;
  const dto =
    fast || !walkable ? pick(plain, ENVELOPE_FIELDS, new FeedEnvelopeDto()) : toFeedDto(plain);
  errors.push(
    ...flatten(
      validateSync(dto, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true }),
    ).filter((e) => !mappedPaths.has(e.path)),
  );
  const bad = new Set(errors.map((e) => e.path));

  // The registry: who may send what.
  const notAuthorised = (path: string, message: string): void =>
    void errors.push({ code: FEED_ERROR.notAuthorised, path, message });
  if (source && !bad.has('source')) {
    if (!registration)
      notAuthorised(
        'source',
        `source "${source}" is not registered${hint(
          hints,
          source,
          rules.registry.all().map((r) => r.id),
        )}`,
      );
    else if (!registration.active)
      notAuthorised('source', `source "${source}" is suspended: ask the hub's operators`);
  }
  if (origin.identity !== undefined && source !== undefined && origin.identity !== source)
    notAuthorised(
      'source',
      `this channel belongs to source "${origin.identity}"; it may not send feeds of "${source}"`,
    );
  else if (origin.key !== undefined && source !== undefined && origin.key !== source)
    notAuthorised(
      'source',
      origin.key === ''
        ? `the record has no key: key it with the source id "${source}"`
        : `record key "${origin.key}" does not name the feed's source "${source}"`,
    );

  const period = bad.has('period') ? undefined : parsePeriod(dto.period);
  if (!bad.has('period') && !period)
    errors.push({
      code: FEED_ERROR.invalidField,
      path: 'period',
      message: `period "${dto.period}" is outside the years 1900 to 2999`,
    });
  errors.push(...timeErrors(dto, bad, period, receivedAt));
  const bs = period ? boundarySetOf(period) : undefined;
  const seen = new Map<string, number>();
  const observations: AcceptedObservation[] = [];
  const list = Array.isArray(plain.observations) ? (plain.observations as unknown[]) : [];
  if (Array.isArray(dto.observations) && list.length <= MAX_OBSERVATIONS) {
    (dto.observations as ObservationDto[]).forEach((o, i) => {
      const at = `observations[${i}]`;
      const rawObs = list[i];
      if (!isRecord(rawObs)) return;
      const has = (f: string): boolean => Object.prototype.hasOwnProperty.call(rawObs, f);
      const def = typeof o.measure === 'string' ? MEASURES[o.measure] : undefined;
      if (typeof o.measure === 'string' && !bad.has(`${at}.measure`)) {
        if (!def)
          errors.push({
            code: FEED_ERROR.unknownMeasure,
            path: `${at}.measure`,
            message: `unknown measure "${o.measure}"${hint(hints, o.measure, Object.keys(MEASURES))}`,
          });
        else if (registration && !registration.measures.includes(o.measure))
          notAuthorised(
            `${at}.measure`,
            `source "${source}" is not registered to report ${o.measure}`,
          );
      }
      if (has('value') === has('items'))
        errors.push({
          code: FEED_ERROR.valueKindMismatch,
          path: at,
          message: 'an observation has exactly one of value or items',
        });
      else if (def) {
        const max = PLAUSIBLE_MAX[def.kind];
        if (
          typeof o.value === 'number' &&
          Number.isFinite(o.value) &&
          max !== undefined &&
          o.value > max
        )
          errors.push({
            code: FEED_ERROR.valueOutOfRange,
            path: `${at}.value`,
            message: `${o.value} is not a plausible ${o.measure} (at most ${max.toExponential()}); check the unit and the scale in the mapping profile`,
          });
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
          notAuthorised(
            `${at}.area`,
            `source "${source}" is not registered for province ${unit.province}`,
          );
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
        ...(origin.exchangeId !== undefined ? { exchangeId: origin.exchangeId } : {}),
        ...(origin.topic !== undefined ? { topic: origin.topic } : {}),
        ...(origin.partition !== undefined ? { partition: origin.partition } : {}),
        ...(origin.offset !== undefined ? { offset: origin.offset } : {}),
      },
    },
  };
}

/** How far a source's clock may run ahead of the hub's (contract v1.1). */
export const SENT_AT_MAX_AHEAD_MS = 15 * 60_000;

/**
 * Contract v1.1's time sanity: a `sentAt` from a clock running ahead would win every later
 * correction, and a period after the month of receipt is a plan, not a figure. The month is
 * Vietnam's (UTC+7): a feed for December received at 01:00 on 1 December there is on time.
 */
function timeErrors(
  dto: FeedEnvelopeDto,
  bad: ReadonlySet<string>,
  period: ReturnType<typeof parsePeriod>,
  receivedAt: Date,
): FeedError[] {
  const errors: FeedError[] = [];
  const sentAt = bad.has('sentAt') ? Number.NaN : Date.parse(dto.sentAt);
  if (!bad.has('sentAt') && !Number.isFinite(sentAt))
    errors.push({
      code: FEED_ERROR.invalidField,
      path: 'sentAt',
      message: `sentAt ${dto.sentAt} is not a moment in time (a leap second, or a date past the year 275,760?)`,
    });
  if (sentAt - receivedAt.getTime() > SENT_AT_MAX_AHEAD_MS)
    errors.push({
      code: FEED_ERROR.sentAtInFuture,
      path: 'sentAt',
      message: `sentAt ${dto.sentAt} is ${describeAhead(sentAt - receivedAt.getTime())} after the hub received the feed (${receivedAt.toISOString()}); at most 15 minutes are allowed: check the sending system's clock and time zone, then send the feed again`,
    });
  if (period) {
    const local = new Date(receivedAt.getTime() + 7 * 3_600_000);
    const received = local.getUTCFullYear() * 12 + local.getUTCMonth();
    const begins = period.year * 12 + monthSpan(period)[0] - 1;
    if (begins > received)
      errors.push({
        code: FEED_ERROR.periodInFuture,
        path: 'period',
        message: `period ${period.code} begins after ${local.toISOString().slice(0, 7)}, the month the hub received the feed: figures are sent once a period has begun (targets go to the plans API)`,
      });
  }
  return errors;
}

function describeAhead(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return `${minutes} minutes`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} hours` : `${Math.round(hours / 24)} days`;
}

const ENVELOPE_FIELDS = [
  'schema',
  'feedId',
  'source',
  'sentAt',
  'period',
  'status',
  'observations',
] as const;
const OBSERVATION_FIELDS = ['area', 'measure', 'value', 'items', 'qualifier'] as const;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Copies the named own fields only: nothing else of a record reaches class-validator. */
function pick<T extends object>(
  from: Record<string, unknown>,
  fields: readonly string[],
  into: T,
): T {
  const target = into as Record<string, unknown>;
  for (const f of fields) if (Object.prototype.hasOwnProperty.call(from, f)) target[f] = from[f];
  return into;
}

/**
 * The feed as DTO instances, built field by field rather than with class-transformer, which
 * walks every nested value and throws on some (an object whose `constructor` is a string,
 * found by fuzzing). An observation that is no object becomes `null`, refused as such:
 * class-validator would walk an array's elements, and throws on `{"constructor": null}`.
 * Unknown fields are reported by `unknownFields`.
 */
function toFeedDto(plain: Record<string, unknown>): FeedDto {
  const dto = pick(plain, ENVELOPE_FIELDS, new FeedDto());
  (dto as { observations: unknown }).observations = (plain.observations as unknown[]).map(
    (o: unknown) => (isRecord(o) ? pick(o, OBSERVATION_FIELDS, new ObservationDto()) : null),
  );
  return dto;
}

/**
 * UNKNOWN_FIELD for every field the contract does not name, in the feed and (with
 * `observations`) in its observations.
 */
function unknownFields(plain: Record<string, unknown>, observations: boolean): FeedError[] {
  const errors: FeedError[] = [];
  const unknown = (path: string, field: string): void =>
    void errors.push({
      code: FEED_ERROR.unknownField,
      path: path ? `${path}.${field}` : field,
      message: `unknown field "${field}"`,
    });
  for (const k of Object.keys(plain))
    if (!(ENVELOPE_FIELDS as readonly string[]).includes(k)) unknown('', k);
  const list: unknown = plain.observations;
  if (observations && Array.isArray(list) && list.length <= MAX_OBSERVATIONS)
    list.forEach((o: unknown, i) => {
      if (isRecord(o))
        for (const k of Object.keys(o))
          if (!(OBSERVATION_FIELDS as readonly string[]).includes(k))
            unknown(`observations[${i}]`, k);
    });
  return errors;
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
        message:
          rule === 'whitelistValidation'
            ? `unknown field "${e.property}"`
            : rule === 'nestedValidation'
              ? 'an observation must be a JSON object'
              : message,
      });
    }
    if (e.children?.length) out.push(...flatten(e.children, path));
  }
  return out;
}
