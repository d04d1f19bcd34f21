import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  Equals,
  IsArray,
  IsIn,
  IsOptional,
  IsRFC3339,
  IsString,
  Length,
  Matches,
  MaxLength,
  MinLength,
  type ValidationArguments,
  ValidateBy,
  ValidateNested,
} from 'class-validator';

export const FEED_SCHEMA = 'lgsp.feed.v1';
export const MAX_OBSERVATIONS = 10_000;
export const FEED_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export const PERIOD_PATTERN = /^\d{4}(-(H[12]|Q[1-4]|0[1-9]|1[0-2]))?$/;
export const QUALIFIERS = ['>', '>=', '<', '<=', '~'] as const;
export const FEED_STATUSES = ['actual', 'estimate', 'provisional'] as const;

/** A finite number, at least 0: one rule, so a value that is not a number gets one error. */
function IsNonNegativeFinite(): PropertyDecorator {
  return ValidateBy({
    name: 'isNonNegativeFinite',
    validator: {
      validate: (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0,
      defaultMessage: (args?: ValidationArguments) =>
        typeof args?.value === 'number' && Number.isFinite(args.value)
          ? 'value must not be less than 0'
          : 'value must be a finite number (or null to retract)',
    },
  });
}

/** A statistics office code: 2 digits (province), 3 (district) or 5 (commune). */
export const AREA_PATTERN = /^\d{2}(\d|\d{3})?$/;

/** One observation of a feed, as operators and agencies send it (contract v1). */
export class ObservationDto {
  @IsString()
  @Matches(AREA_PATTERN, {
    message:
      'area must be a statistics office code: 2 digits (province), 3 (district) or 5 (commune)',
  })
  area!: string;

  @IsString()
  @Length(1, 64)
  measure!: string;

  /** A finite number, at least 0; `null` retracts the source's value. */
  @IsOptional()
  @IsNonNegativeFinite()
  value?: number | null;

  /** Distinct codes for set-valued measures; `null` retracts. */
  @IsOptional()
  @IsArray()
  @ArrayUnique({ message: 'items must be distinct' })
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(64, { each: true })
  items?: string[] | null;

  @IsOptional()
  @IsIn(QUALIFIERS)
  qualifier?: (typeof QUALIFIERS)[number];
}

/**
 * ObservationDto's rules, compiled by hand for the hot path: true only when class-validator
 * would find nothing wrong with the observation (a test holds the two to each other). It may
 * say false for a valid one (text outside ASCII, whose length it leaves to class-validator);
 * a feed with any false goes through class-validator for its messages.
 */
export function observationIsValid(o: unknown): boolean {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return false;
  const r = o as Record<string, unknown>;
  for (const k in r) if (!OBSERVATION_FIELDS.has(k)) return false;
  const { area, measure, value, items, qualifier } = r;
  if (typeof area !== 'string' || !AREA_PATTERN.test(area)) return false;
  if (typeof measure !== 'string' || !ASCII_1_64.test(measure)) return false;
  if (value != null && !(typeof value === 'number' && Number.isFinite(value) && value >= 0))
    return false;
  if (items != null) {
    if (!Array.isArray(items)) return false;
    for (const i of items) if (typeof i !== 'string' || !ASCII_1_64.test(i)) return false;
    if (new Set(items).size !== items.length) return false;
  }
  if (qualifier != null && !(QUALIFIERS as readonly unknown[]).includes(qualifier)) return false;
  return true;
}
const OBSERVATION_FIELDS = new Set(['area', 'measure', 'value', 'items', 'qualifier']);
const ASCII_1_64 = /^[\x00-\x7f]{1,64}$/;

/**
 * A feed's fields but its observations' own: `observations` is checked as an array of the
 * right size. The hot path validates this, and each observation with `observationIsValid`.
 */
export class FeedEnvelopeDto {
  @Equals(FEED_SCHEMA)
  schema!: typeof FEED_SCHEMA;

  @IsString()
  @Matches(FEED_ID_PATTERN, { message: 'feedId must be 1 to 128 characters of [A-Za-z0-9._:-]' })
  feedId!: string;

  @IsString()
  @Length(1, 64)
  source!: string;

  @IsRFC3339({ message: 'sentAt must be an RFC 3339 date-time with an offset' })
  sentAt!: string;

  @IsString()
  @Matches(PERIOD_PATTERN, { message: 'period must be YYYY, YYYY-H1|H2, YYYY-Q1..Q4 or YYYY-MM' })
  period!: string;

  @IsOptional()
  @IsIn(FEED_STATUSES)
  status?: (typeof FEED_STATUSES)[number];

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_OBSERVATIONS)
  observations!: unknown[];
}

/** A feed on `lgsp.feeds.v1` (contract v1), observations and all. */
export class FeedDto extends FeedEnvelopeDto {
  @ValidateNested({ each: true })
  @Type(() => ObservationDto)
  declare observations: ObservationDto[];
}
