/** Errors carry a code and whether trying again can help. Bad data never can. */
export class HubError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retriable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HubError';
  }
}

/** Why a feed was rejected. Stable codes: ops dashboards and replay tooling key on them. */
export const FEED_ERROR = {
  malformedJson: 'MALFORMED_JSON',
  invalidField: 'INVALID_FIELD',
  unknownField: 'UNKNOWN_FIELD',
  unknownSource: 'UNKNOWN_SOURCE',
  sourceSuspended: 'SOURCE_SUSPENDED',
  keyMismatch: 'KEY_MISMATCH',
  unknownMeasure: 'UNKNOWN_MEASURE',
  measureNotAllowed: 'MEASURE_NOT_ALLOWED',
  unknownArea: 'UNKNOWN_AREA',
  valueKindMismatch: 'VALUE_KIND_MISMATCH',
  duplicateObservation: 'DUPLICATE_OBSERVATION',
} as const;
export type FeedErrorCode = (typeof FEED_ERROR)[keyof typeof FEED_ERROR];

export interface FeedError {
  readonly code: FeedErrorCode;
  /** Where in the feed, e.g. `observations[3].value`; empty for the whole record. */
  readonly path: string;
  readonly message: string;
}

/** A feed that failed validation: never retriable, goes to the DLQ with every error. */
export class FeedRejectedError extends HubError {
  constructor(readonly errors: readonly FeedError[]) {
    super(errors[0]?.code ?? FEED_ERROR.invalidField, summarise(errors), false);
  }
}

function summarise(errors: readonly FeedError[]): string {
  const head = errors
    .slice(0, 3)
    .map((e) => (e.path ? `${e.path}: ${e.message}` : e.message))
    .join('; ');
  return errors.length > 3 ? `${head}; and ${errors.length - 3} more` : head;
}
