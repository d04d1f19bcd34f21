import type { FeedError } from './errors.js';
import { DLQ_HEADERS } from './topics.js';

/**
 * The most errors a DLQ record's header lists. A feed of 10,000 bad observations has tens of
 * thousands: listed whole they would make the DLQ record larger than the topic takes, and the
 * hub could not set it aside. The audit log's DLQ index keeps every one.
 */
export const DLQ_HEADER_MAX_ERRORS = 100;

/** Where a DLQ record was read: the topic, partition and offset(s) it came from. */
export interface DlqWhere {
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: string;
  /** An undecodable batch covers offsets `offset`..`lastOffset`. */
  readonly lastOffset?: string;
}

/** The DLQ headers of a rejected record: the first code, the errors, where it was read. */
export function dlqHeaders(
  errors: readonly FeedError[],
  where: DlqWhere,
  rejectedBy: string,
): Record<string, string> {
  const listed: FeedError[] = errors.slice(0, DLQ_HEADER_MAX_ERRORS);
  if (errors.length > listed.length)
    listed.push({
      code: errors[DLQ_HEADER_MAX_ERRORS]!.code,
      path: '',
      message: `and ${errors.length - listed.length} more errors: the DLQ index (GET /v1/dlq) lists them all`,
    });
  return {
    [DLQ_HEADERS.errorCode]: errors[0]!.code,
    [DLQ_HEADERS.errors]: JSON.stringify(listed),
    ...(where.topic !== undefined ? { [DLQ_HEADERS.sourceTopic]: where.topic } : {}),
    ...(where.partition !== undefined
      ? { [DLQ_HEADERS.sourcePartition]: String(where.partition) }
      : {}),
    ...(where.offset !== undefined ? { [DLQ_HEADERS.sourceOffset]: where.offset } : {}),
    ...(where.lastOffset !== undefined ? { [DLQ_HEADERS.sourceLastOffset]: where.lastOffset } : {}),
    [DLQ_HEADERS.rejectedAt]: new Date().toISOString(),
    [DLQ_HEADERS.rejectedBy]: rejectedBy,
  };
}
