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
  malformedCsv: 'MALFORMED_CSV',
  invalidField: 'INVALID_FIELD',
  unknownField: 'UNKNOWN_FIELD',
  /** Unknown or suspended source, or a measure, area or identity outside its registration. */
  notAuthorised: 'NOT_AUTHORISED',
  unknownMeasure: 'UNKNOWN_MEASURE',
  unknownArea: 'UNKNOWN_AREA',
  valueKindMismatch: 'VALUE_KIND_MISMATCH',
  valueOutOfRange: 'VALUE_OUT_OF_RANGE',
  duplicateObservation: 'DUPLICATE_OBSERVATION',
  /** HTTP edge: no API key, or one that is unknown or revoked. */
  unauthenticated: 'UNAUTHENTICATED',
  /** HTTP edge: a body over HTTP_FEED_MAX_BYTES. */
  bodyTooLarge: 'BODY_TOO_LARGE',
  /** `sentAt` more than 15 minutes after the hub received the feed (contract v1.1). */
  sentAtInFuture: 'SENT_AT_IN_FUTURE',
  /** A period that begins after the month the hub received the feed in (contract v1.1). */
  periodInFuture: 'PERIOD_IN_FUTURE',
  /**
   * The record could not be handled for a reason that is not its data's fault as far as the
   * rules know (a bug, most likely): it was set aside so that the records behind it flow.
   */
  internalError: 'INTERNAL_ERROR',
  /** A record batch the client could not decompress or decode: set aside with its offsets. */
  undecodableBatch: 'UNDECODABLE_BATCH',
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
