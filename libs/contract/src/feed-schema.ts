import { validationMetadatasToSchemas } from 'class-validator-jsonschema';
import { FEED_SCHEMA } from './feed.dto.js';

/** Where the hub serves the schema (the ingest, `GET /v1/feeds/schema`). */
export const FEED_JSON_SCHEMA_ID = 'https://lgsp.hub/schemas/lgsp.feed.v1.json';

type Schema = Record<string, unknown> & { properties?: Record<string, Record<string, unknown>> };

/**
 * The JSON Schema (2020-12) of a feed on `lgsp.feed.v1`, generated from the DTOs'
 * class-validator rules, for producers to check their feeds before sending. What a schema
 * cannot say (a measure or area the source is registered for, periods in the future, units of
 * the right boundary set) is checked by the hub and reported with codes.
 */
export function feedJsonSchema(): Record<string, unknown> {
  const all = validationMetadatasToSchemas({
    refPointerPrefix: '#/$defs/',
    additionalConverters: {
      isNonNegativeFinite: { type: 'number', minimum: 0 },
      isRFC3339: { type: 'string', format: 'date-time' },
    },
  }) as Record<string, Schema>;
  const observation = structuredClone(all['ObservationDto']!);
  const feed = structuredClone(all['FeedDto']!);
  // `null` retracts a value or an item set; class-validator's IsOptional says so, the
  // generator does not.
  const p = observation.properties!;
  p['value'] = { ...p['value'], type: ['number', 'null'] };
  p['items'] = { ...p['items'], type: ['array', 'null'] };
  // The ESM build does not record ValidateNested's element type for the generator.
  feed.properties!['observations']!['items'] = { $ref: '#/$defs/Observation' };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: FEED_JSON_SCHEMA_ID,
    title: FEED_SCHEMA,
    description:
      'A feed of observations from one source for one period (contract v1). Unknown fields are refused.',
    ...feed,
    additionalProperties: false,
    $defs: { Observation: { ...observation, additionalProperties: false } },
  };
}

/**
 * The same schema as OpenAPI 3.0 components (`Feed`, `FeedObservation`): 3.0 says `nullable`
 * where JSON Schema says `type: [..., "null"]`, and keeps schemas under `components`.
 */
export function feedOpenApiSchemas(): Record<string, Record<string, unknown>> {
  const {
    $defs,
    $schema: _s,
    $id: _i,
    ...feed
  } = feedJsonSchema() as Record<string, unknown> & {
    $defs: { Observation: Record<string, unknown> };
  };
  const convert = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(convert);
    if (typeof v !== 'object' || v === null) return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === '$ref' && x === '#/$defs/Observation')
        out[k] = '#/components/schemas/FeedObservation';
      else if (k === 'type' && Array.isArray(x) && x.includes('null')) {
        out['type'] = x.find((t) => t !== 'null');
        out['nullable'] = true;
      } else out[k] = convert(x);
    }
    return out;
  };
  return {
    Feed: convert(feed) as Record<string, unknown>,
    FeedObservation: convert($defs.Observation) as Record<string, unknown>,
  };
}
