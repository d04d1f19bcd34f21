import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  DLQ_HEADERS,
  type FeedRules,
  HubError,
  MAX_REQUEST_BYTES,
  TOPICS,
  validateFeed,
} from '@app/contract';
import { type ConsumedMessage, sendInChunks } from '@app/kafka';
import { METRICS } from '@app/service';
import type { Message, Producer } from 'kafkajs';
import { FEED_RULES } from '../ingest.tokens.js';

export interface IngestCounters {
  feeds: number;
  accepted: number;
  rejected: number;
  observationsAccepted: number;
  rejectedByCode: Record<string, number>;
}

/**
 * Validates and normalises a batch of raw feeds: accepted ones go to the internal topic,
 * rejected ones to the DLQ with their bytes unchanged and every reason in the headers.
 * Resolves only when Kafka has acknowledged both, so the caller may then commit offsets.
 */
@Injectable()
export class NormaliseFeedsHandler {
  private readonly log = new Logger(NormaliseFeedsHandler.name);
  readonly counters: IngestCounters = {
    feeds: 0,
    accepted: 0,
    rejected: 0,
    observationsAccepted: 0,
    rejectedByCode: {},
  };

  constructor(@Inject(FEED_RULES) private readonly rules: FeedRules) {}

  async handle(messages: readonly ConsumedMessage[], producer: Producer): Promise<void> {
    const accepted: Message[] = [];
    const rejected: Message[] = [];
    const tally = { accepted: 0, rejected: 0, observations: 0, codes: [] as string[] };
    for (const m of messages) {
      const where = { topic: m.topic, partition: m.partition, offset: m.offset };
      const verdict = validateFeed(m.value ?? new Uint8Array(), this.rules, {
        channel: 'kafka',
        ...where,
        ...(m.key !== undefined ? { key: m.key } : {}),
      });
      if (verdict.ok) {
        this.log.debug?.({
          message: `accepted feed: ${verdict.feed.observations.length} observation(s)`,
          ...where,
          source: verdict.feed.source,
          feedId: verdict.feed.feedId,
        });
        accepted.push({ key: verdict.feed.source, value: JSON.stringify(verdict.feed) });
        tally.accepted++;
        tally.observations += verdict.feed.observations.length;
        continue;
      }
      const code = verdict.errors[0]!.code;
      tally.rejected++;
      tally.codes.push(code);
      this.log.warn({
        message: `rejected feed: ${verdict.errors.length} error(s), first: ${verdict.errors[0]!.message}`,
        ...where,
        source: verdict.source,
        feedId: verdict.feedId,
        errors: verdict.errors.slice(0, 20),
      });
      rejected.push({
        key: m.key ?? null,
        value: m.value,
        headers: {
          [DLQ_HEADERS.errorCode]: code,
          [DLQ_HEADERS.errors]: JSON.stringify(verdict.errors),
          [DLQ_HEADERS.sourceTopic]: m.topic,
          [DLQ_HEADERS.sourcePartition]: String(m.partition),
          [DLQ_HEADERS.sourceOffset]: m.offset,
          [DLQ_HEADERS.rejectedAt]: new Date().toISOString(),
          [DLQ_HEADERS.rejectedBy]: 'ingest',
        },
      });
    }
    const topicMessages = [
      ...(accepted.length ? [{ topic: TOPICS.accepted, messages: accepted }] : []),
      ...(rejected.length ? [{ topic: TOPICS.dlq, messages: rejected }] : []),
    ];
    try {
      await sendInChunks(producer, topicMessages, MAX_REQUEST_BYTES);
    } catch (e) {
      throw new HubError(
        'KAFKA_PRODUCE_FAILED',
        `could not forward the batch: ${(e as Error).message}`,
        true,
        { cause: e },
      );
    }
    METRICS.feedsConsumed.inc({ service: 'ingest' }, messages.length);
    METRICS.feedsAccepted.inc({ service: 'ingest' }, tally.accepted);
    METRICS.observationsConsumed.inc({ service: 'ingest' }, tally.observations);
    for (const code of tally.codes) METRICS.feedsRejected.inc({ service: 'ingest', code });
    const c = this.counters;
    c.feeds += messages.length;
    c.accepted += tally.accepted;
    c.rejected += tally.rejected;
    c.observationsAccepted += tally.observations;
    for (const code of tally.codes) c.rejectedByCode[code] = (c.rejectedByCode[code] ?? 0) + 1;
  }
}
