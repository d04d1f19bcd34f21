import { Inject, Injectable, Logger } from '@nestjs/common';
import { type AdminUnits, type AreaNames, type BoundarySet } from '@app/catalogue';
import {
  type AcceptedFeed,
  type FeedChannel,
  feedRules,
  sliceFeed,
  HUB_HEADERS,
  HubError,
  MAX_REQUEST_BYTES,
  sourceOfTopic,
  TOPICS,
  validateFeed,
} from '@app/contract';
import {
  AuditStore,
  classify,
  DATA_SOURCE,
  type DlqEntry,
  type ExchangeEntry,
  FeedStore,
  RegistryStore,
} from '@app/database';
import { type ConsumedMessage, dlqRecord, errorOf, sendInChunks, sendToDlq } from '@app/kafka';
import { METRICS, ADMIN_UNITS } from '@app/service';
import type { IHeaders, Message, Producer } from 'kafkajs';
import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';

export interface IngestCounters {
  feeds: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  observationsAccepted: number;
  rejectedByCode: Record<string, number>;
}

/** A record validated, with its audit-log entry. */
interface Checked {
  readonly verdict: ReturnType<typeof validateFeed>;
  readonly exchange: ExchangeEntry;
}

interface Tally {
  accepted: number;
  rejected: number;
  observations: number;
  codes: string[];
}

/** Where a batch's records go. */
interface Routed {
  readonly slices: Message[];
  readonly rejected: Message[];
  readonly dlq: DlqEntry[];
  /** Exchange ids of the duplicates. */
  readonly duplicates: string[];
  readonly tally: Tally;
}

type FeedRules = ReturnType<typeof feedRules>;

const header = (h: IHeaders | undefined, name: string): string | undefined => {
  const v = h?.[name];
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined || one === null ? undefined : one.toString();
};

/** An audit log id from a header anyone can set: digits that fit a bigint, else none. */
const exchangeIdHeader = (h: IHeaders | undefined, name: string): string | undefined => {
  const v = header(h, name);
  return v !== undefined && /^[1-9]\d{0,17}$/.test(v) ? v : undefined;
};

export const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/**
 * Validates and normalises a batch of raw feeds against the registry as it is now. A valid
 * feed is claimed for its exchange (`(source, feedId)` seen before: a duplicate, which goes
 * no further) and forwarded as one slice per aggregation group to the internal topic; a
 * rejected one goes to the DLQ with its bytes unchanged and every reason in the headers.
 * Every record is written to the audit log (and a rejected one to the DLQ index) before it
 * is forwarded; resolves only when Kafka has acknowledged both, so the caller may then commit
 * offsets. Reading a record twice records it once, and forwards it again (slices are applied
 * once). Of two copies of a feed claimed at the same moment (by two ingest instances), one
 * owns it and the other is a duplicate.
 */
@Injectable()
export class NormaliseFeedsHandler {
  private readonly log = new Logger(NormaliseFeedsHandler.name);
  private readonly registry = new RegistryStore();
  private readonly audit = new AuditStore();
  private readonly claims = new FeedStore();
  private readonly names = new Map<BoundarySet, AreaNames>();
  readonly counters: IngestCounters = {
    feeds: 0,
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    observationsAccepted: 0,
    rejectedByCode: {},
  };

  constructor(
    @Inject(ADMIN_UNITS) private readonly units: AdminUnits,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
  ) {}

  /** The rules of this moment: registrations and mapping profiles are read per batch. */
  async rules(): Promise<FeedRules> {
    return feedRules(this.units, await this.registry.load(this.ds), this.names);
  }

  /** `backlog`: more records wait behind this batch (the aggregator may then batch up). */
  async handle(
    messages: readonly ConsumedMessage[],
    producer: Producer,
    backlog = false,
  ): Promise<void> {
    const rules = await this.currentRules();
    const checked = messages.map((m) => this.check(m, rules));
    const ids = await this.recordExchanges(checked.map((c) => c.exchange));
    const owners = await this.claim(checked, ids);
    const routed = this.route(messages, checked, ids, owners, backlog);
    await this.recordOutcomes(routed);
    await this.forward(producer, routed);
    this.count(messages.length, routed.tally, routed.duplicates.length);
  }

  private async currentRules(): Promise<FeedRules> {
    try {
      return await this.rules();
    } catch (e) {
      throw new HubError('DB_UNREACHABLE', `reading the registry: ${(e as Error).message}`, true, {
        cause: e,
      });
    }
  }

  /** Validates one record, and describes it for the audit log. */
  private check(m: ConsumedMessage, rules: FeedRules): Checked {
    const channelHeader = header(m.headers, HUB_HEADERS.channel);
    const channel: FeedChannel =
      channelHeader === 'http' || channelHeader === 'replay' ? channelHeader : 'kafka';
    const identity = sourceOfTopic(m.topic);
    const value = m.value ?? Buffer.alloc(0);
    const verdict = validateFeed(value, rules, {
      channel,
      topic: m.topic,
      partition: m.partition,
      offset: m.offset,
      ...(identity !== undefined ? { identity } : {}),
      // On the shared topic the key names the source; a record without one is refused.
      ...(identity === undefined ? { key: m.key ?? '' } : {}),
    });
    const exchangeId =
      channel === 'http' ? exchangeIdHeader(m.headers, HUB_HEADERS.exchangeId) : undefined;
    const exchange: ExchangeEntry = {
      ...(exchangeId ? { exchangeId } : {}),
      channel,
      source: verdict.ok ? verdict.feed.source : (verdict.source ?? identity ?? m.key ?? null),
      feedId: verdict.ok ? verdict.feed.feedId : (verdict.feedId ?? null),
      topic: m.topic,
      partition: m.partition,
      offset: m.offset,
      sizeBytes: value.length,
      contentSha256: sha256Hex(value),
      outcome: verdict.ok ? 'validated' : 'rejected',
      ...(verdict.ok ? {} : { errorCode: verdict.errors[0]!.code, errors: verdict.errors }),
      observations: verdict.ok ? verdict.feed.observations.length : null,
      replayOf: exchangeIdHeader(m.headers, HUB_HEADERS.replayOf) ?? null,
    };
    return { verdict, exchange };
  }

  /**
   * Writes every record to the audit log; returns their exchange ids. An exchange id the HTTP
   * edge gave that matches no row it made is recorded as a record of its own.
   */
  private async recordExchanges(exchanges: ExchangeEntry[]): Promise<string[]> {
    try {
      const ids = await this.audit.record(this.ds, exchanges);
      const orphans = exchanges.map((e, i) => (ids[i] ? -1 : i)).filter((i) => i >= 0);
      if (orphans.length) {
        const again = await this.audit.record(
          this.ds,
          orphans.map((i) => ({ ...exchanges[i]!, exchangeId: undefined })),
        );
        orphans.forEach((i, j) => (ids[i] = again[j]!));
      }
      return ids;
    } catch (e) {
      throw classify(e);
    }
  }

  /**
   * The duplicate check: the first exchange to claim (source, feedId) owns the feed. Returns
   * the owner's exchange id per valid record, by position in the batch.
   */
  private async claim(checked: Checked[], ids: string[]): Promise<Map<number, string | null>> {
    const valid = checked.flatMap((c, i) => (c.verdict.ok ? [i] : []));
    try {
      const owners = await this.claims.claim(
        this.ds,
        valid.map((i) => {
          const { feed } = checked[i]!.verdict as { feed: AcceptedFeed };
          return {
            source: feed.source,
            feedId: feed.feedId,
            sentAt: feed.sentAt,
            period: feed.period,
            status: feed.status,
            observationCount: feed.observations.length,
            receivedAt: feed.receivedAt,
            origin: { ...feed.origin, exchangeId: ids[i]! },
            exchangeId: ids[i]!,
          };
        }),
      );
      return new Map(valid.map((i, j) => [i, owners[j] ?? null]));
    } catch (e) {
      throw classify(e);
    }
  }

  /** Where each record goes: slices of an owned feed, the DLQ, or nowhere (a duplicate). */
  private route(
    messages: readonly ConsumedMessage[],
    checked: Checked[],
    ids: string[],
    owner: Map<number, string | null>,
    backlog: boolean,
  ): Routed {
    const routed: Routed = {
      slices: [],
      rejected: [],
      dlq: [],
      duplicates: [],
      tally: { accepted: 0, rejected: 0, observations: 0, codes: [] },
    };
    const { tally } = routed;
    const headers = { [HUB_HEADERS.backlog]: backlog ? '1' : '0' };
    messages.forEach((m, i) => {
      const { verdict, exchange } = checked[i]!;
      const where = { topic: m.topic, partition: m.partition, offset: m.offset };
      if (verdict.ok) {
        if (owner.get(i) !== ids[i]) {
          routed.duplicates.push(ids[i]!);
          this.log.log({
            message: `duplicate feed: ${verdict.feed.feedId} of ${verdict.feed.source} was received before (exchange ${owner.get(i) ?? 'claimed at the same moment, or of an older hub'})`,
            ...where,
            source: verdict.feed.source,
            feedId: verdict.feed.feedId,
          });
          return;
        }
        const feed: AcceptedFeed = {
          ...verdict.feed,
          origin: { ...verdict.feed.origin, exchangeId: ids[i]! },
        };
        for (const slice of sliceFeed(feed, this.units))
          routed.slices.push({ key: slice.group, value: JSON.stringify(slice), headers });
        tally.accepted++;
        tally.observations += feed.observations.length;
        return;
      }
      tally.rejected++;
      tally.codes.push(verdict.errors[0]!.code);
      this.log.warn({
        message: `rejected feed: ${verdict.errors.length} error(s), first: ${verdict.errors[0]!.message}`,
        ...where,
        source: verdict.source,
        feedId: verdict.feedId,
        errors: verdict.errors.slice(0, 20),
      });
      routed.rejected.push(dlqRecord(m, verdict.errors, 'ingest'));
      routed.dlq.push({
        exchangeId: ids[i]!,
        source: exchange.source,
        feedId: exchange.feedId,
        topic: m.topic,
        key: m.key ?? null,
        payload: m.value ?? Buffer.alloc(0),
        replayable: true,
        errorCode: verdict.errors[0]!.code,
        errors: verdict.errors,
        rejectedBy: 'ingest',
      });
    });
    return routed;
  }

  /** The DLQ index for the rejected, the audit log's outcome for the duplicates. */
  private async recordOutcomes(routed: Routed): Promise<void> {
    try {
      await this.audit.addToDlq(this.ds, routed.dlq);
      await this.audit.decide(
        this.ds,
        routed.duplicates.map((exchangeId) => ({ exchangeId, outcome: 'duplicate', kpiKeys: [] })),
      );
    } catch (e) {
      throw classify(e);
    }
  }

  /** Slices to the aggregator, rejected records to the DLQ; resolves once Kafka has both. */
  private async forward(producer: Producer, routed: Routed): Promise<void> {
    const topicMessages = [
      ...(routed.slices.length ? [{ topic: TOPICS.slices, messages: routed.slices }] : []),
      ...(routed.rejected.length ? [{ topic: TOPICS.dlq, messages: routed.rejected }] : []),
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
  }

  /**
   * Sets aside a record this handler could not handle (BatchConsumer found it at fault): on
   * the DLQ with the error, in the audit log as rejected, and counted like any rejection.
   */
  async quarantine(m: ConsumedMessage, error: HubError, producer: Producer): Promise<void> {
    const errors = [errorOf(error)];
    await sendToDlq(producer, dlqRecord(m, errors, 'ingest'));
    const value = m.value ?? Buffer.alloc(0);
    try {
      const [exchangeId] = await this.audit.record(this.ds, [
        {
          channel: 'kafka',
          source: sourceOfTopic(m.topic) ?? m.key ?? null,
          feedId: null,
          topic: m.topic,
          partition: m.partition,
          offset: m.offset,
          sizeBytes: value.length,
          contentSha256: sha256Hex(value),
          outcome: 'rejected',
          errorCode: error.code,
          errors,
          observations: null,
          replayOf: null,
        },
      ]);
      await this.audit.addToDlq(this.ds, [
        {
          exchangeId: exchangeId ?? null,
          source: sourceOfTopic(m.topic) ?? m.key ?? null,
          feedId: null,
          topic: m.topic,
          key: m.key ?? null,
          payload: value,
          replayable: !m.undecodable,
          errorCode: error.code,
          errors,
          rejectedBy: 'ingest',
        },
      ]);
    } catch (e) {
      throw classify(e);
    }
    this.count(1, { accepted: 0, rejected: 1, observations: 0, codes: [error.code] }, 0);
  }

  private count(feeds: number, tally: Tally, duplicates: number): void {
    METRICS.feedsConsumed.inc({ service: 'ingest' }, feeds);
    METRICS.feedsAccepted.inc({ service: 'ingest' }, tally.accepted);
    METRICS.feedsDuplicate.inc(duplicates);
    METRICS.observationsConsumed.inc({ service: 'ingest' }, tally.observations);
    for (const code of tally.codes) METRICS.feedsRejected.inc({ service: 'ingest', code });
    const c = this.counters;
    c.feeds += feeds;
    c.accepted += tally.accepted;
    c.duplicates += duplicates;
    c.rejected += tally.rejected;
    c.observationsAccepted += tally.observations;
    for (const code of tally.codes) c.rejectedByCode[code] = (c.rejectedByCode[code] ?? 0) + 1;
  }
}
