import { sliceProblem } from '@app/aggregation';
import { HUB_CONFIG, type HubConfig } from '@app/config';
import {
  type FeedSlice,
  HUB_HEADERS,
  HubError,
  readFeedSlice,
  slicePlacement,
  TOPIC_SPECS,
  TOPICS,
} from '@app/contract';
import { AuditStore, classify, DATA_SOURCE, SliceStore } from '@app/database';
import {
  BatchContext,
  BatchTransport,
  type ConsumedMessage,
  createIdempotentProducer,
  dlqRecord,
  ensureTopics,
  errorOf,
  infrastructureProbe,
  KAFKA,
  KeepBatchErrors,
  sendToDlq,
  setAsidePattern,
  type SetAsideRecord,
} from '@app/kafka';
import { exitFatally, METRICS } from '@app/service';
import {
  Controller,
  Inject,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  UseFilters,
} from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Kafka, Producer } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { AGGREGATOR_CONTEXT, type AggregatorContext } from '../aggregator.tokens.js';
import { GroupCache } from '../groups/group-cache.service.js';
import { Serial } from '../groups/serial.js';
import { type IngestHint, nextHint } from '../kpis/flush-policy.js';
import { KpiPublisher } from '../kpis/kpi-publisher.service.js';
import { ApplySlicesHandler, type SliceRecord } from './apply-slices.handler.js';

/** The batch transport's name for the feed slices the aggregator reads. */
export const SLICES = 'slices';

/**
 * Consumes feed slices in batches (on the BatchTransport): each batch is applied in one transaction and its offsets
 * committed after it; the KPI publisher then decides when the keys it moved are published. A
 * batch that fails for a non-transient reason is split to find the record at fault, which
 * goes to the DLQ with the reason; the others are applied. No record blocks a partition.
 */
@Controller()
@UseFilters(KeepBatchErrors)
export class FeedSlicesController implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(FeedSlicesController.name);
  private producer?: Producer;
  /** Whether the ingest had more feeds waiting, as its most recently forwarded slice says. */
  private ingestHint: IngestHint = { at: -1, waiting: false };
  private waitingFor = '';

  constructor(
    private readonly audit: AuditStore,
    private readonly slices: SliceStore,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(AGGREGATOR_CONTEXT) private readonly ctx: AggregatorContext,
    private readonly handler: ApplySlicesHandler,
    private readonly publisher: KpiPublisher,
    private readonly serial: Serial,
    private readonly cache: GroupCache,
    private readonly transport: BatchTransport,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await ensureTopics(this.kafka, TOPIC_SPECS);
    await this.slices.ensureGroups(this.ds, this.ctx.layouts.codes());
    const partitionOf = await this.partitioner();
    this.producer = createIdempotentProducer(this.kafka);
    await this.producer.connect();
    this.transport.subscribe(SLICES, {
      groupId: this.config.AGGREGATOR_GROUP,
      topics: [TOPICS.slices],
      retries: this.config.BATCH_RETRIES,
      stallAfterMs: this.config.CONSUMER_STALL_SECONDS * 1_000,
      startAt: this.config.CONSUMER_START,
      probe: infrastructureProbe(this.kafka, this.ds),
      onAssigned: (assignment) => {
        const mine = new Set(assignment[TOPICS.slices] ?? []);
        this.publisher.assigned((group) => mine.has(partitionOf(group)));
      },
      onFatal: (e) => exitFatally('aggregator', e),
    });
  }

  /** After the transport has left its group (it stops at module destroy). */
  async onApplicationShutdown(): Promise<void> {
    await this.producer?.disconnect();
  }

  // `<string>` picks the untyped overload: the typed one does not let a handler type @Ctx().
  @EventPattern<string>(SLICES)
  apply(@Payload() messages: ConsumedMessage[], @Ctx() ctx: BatchContext): Promise<void> {
    return this.handle(messages, ctx.hasBacklog());
  }

  /** A record the transport found at fault (see `quarantine`). */
  @EventPattern<string>(setAsidePattern(SLICES))
  setAside(@Payload() { message, error }: SetAsideRecord): Promise<void> {
    return this.quarantine(message, error);
  }

  /** The partition a group's slices are on (the ingest places them with `slicePlacement`). */
  private async partitioner(): Promise<(group: string) => number> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [TOPICS.slices] });
      return slicePlacement(this.ctx.units, topics[0]!.partitions.length);
    } finally {
      await admin.disconnect();
    }
  }

  private async handle(messages: readonly ConsumedMessage[], backlog: boolean): Promise<void> {
    const parsed: { m: ConsumedMessage; record: SliceRecord }[] = [];
    for (const m of messages) {
      const more = m.headers?.[HUB_HEADERS.backlog]?.toString() === '1';
      this.ingestHint = nextHint(this.ingestHint, Number(m.timestamp), more);
      const payload = m.value?.toString('utf8') ?? '';
      const read = readFeedSlice(payload);
      if (!read.ok) {
        await this.quarantine(m, new HubError('UNREADABLE_FEED_SLICE', read.problem, false));
        continue;
      }
      const { slice } = read;
      const problem = this.problem(slice);
      if (problem) {
        await this.quarantine(m, new HubError('INAPPLICABLE_FEED_SLICE', problem, false), slice);
        continue;
      }
      parsed.push({ m, record: { slice, payload } });
    }
    const waiting = backlog ? "this consumer's lag" : this.ingestHint.waiting ? "the ingest's" : '';
    if (waiting !== this.waitingFor)
      this.log.debug?.(`more slices known to be waiting: ${waiting || 'none'}`);
    this.waitingFor = waiting;
    try {
      await this.applyAll(
        parsed.map((p) => p.record),
        waiting !== '',
      );
    } catch (e) {
      if (!(e instanceof HubError) || e.retriable || parsed.length === 0) throw e;
      this.log.error(`batch of ${parsed.length} failed (${e.message}): applying one by one`);
      for (const { m, record } of parsed) {
        try {
          await this.applyAll([record], waiting !== '');
        } catch (one) {
          if (!(one instanceof HubError) || one.retriable) throw one;
          await this.quarantine(m, one, record.slice);
        }
      }
    }
  }

  private problem(slice: FeedSlice): string | undefined {
    let layout;
    try {
      layout = this.ctx.layouts.get(slice.group);
    } catch {
      return `group "${slice.group}" is not a 2025 province`;
    }
    return sliceProblem(layout, {
      source: slice.source,
      feedId: slice.feedId,
      sentAt: slice.sentAt,
      period: slice.period,
      status: slice.status,
      observations: slice.observations,
    });
  }

  /**
   * Applies records and tells the publisher. A batch that touches a group this instance does
   * not hold (after a restart or a rebalance) is applied a group at a time: each loads from
   * PostgreSQL first (seconds for the largest), and its changes can then be published while
   * the next loads, instead of every group of the batch waiting for the last to load. Each
   * part is its own transaction; the offsets are committed after the whole batch, and a part
   * delivered again is a duplicate.
   */
  private async applyAll(records: SliceRecord[], waiting: boolean): Promise<void> {
    const held = new Set(this.cache.held());
    let parts = [records];
    if (records.some((r) => !held.has(r.slice.group))) {
      const byGroup = new Map<string, SliceRecord[]>();
      for (const r of records) {
        const list = byGroup.get(r.slice.group);
        if (list) list.push(r);
        else byGroup.set(r.slice.group, [r]);
      }
      parts = [...byGroup.values()];
    }
    for (const part of parts) {
      await this.applyPart(part);
      this.publisher.arrived(part.length, waiting);
    }
  }

  private async applyPart(records: SliceRecord[]): Promise<void> {
    if (records.length === 0) return;
    const r = await this.serial.run(() => this.handler.apply(records));
    this.handler.counters.slices += r.slices;
    this.handler.counters.duplicates += r.duplicates;
    this.handler.counters.observations += r.observations;
    METRICS.feedsConsumed.inc({ service: 'aggregator' }, r.slices);
    METRICS.observationsConsumed.inc({ service: 'aggregator' }, r.observations);
    this.log.debug?.(
      `applied ${r.fresh} slice(s) (${r.duplicates} seen before), ${r.observations} observation(s), ${r.cellsChanged} changed`,
    );
  }

  /**
   * Sets a slice aside: on the DLQ with the reason, and its feed's exchange marked rejected.
   * Called for slices found wrong here and by the transport for any it isolates.
   */
  private async quarantine(m: ConsumedMessage, error: HubError, known?: FeedSlice): Promise<void> {
    const read = known ? undefined : readFeedSlice(m.value?.toString('utf8') ?? '');
    const slice = known ?? (read?.ok ? read.slice : undefined);
    this.handler.counters.quarantined++;
    METRICS.feedsRejected.inc({ service: 'aggregator', code: error.code });
    this.log.error({
      message: `quarantined to ${TOPICS.dlq}: ${error.code}: ${error.message}`,
      topic: m.topic,
      partition: m.partition,
      offset: m.offset,
      source: slice?.source,
      feedId: slice?.feedId,
    });
    const errors = [errorOf(error)];
    await sendToDlq(this.producer!, dlqRecord(m, errors, 'aggregator'));
    const exchangeId = slice?.origin.exchangeId ?? null;
    try {
      await this.audit.addToDlq(this.ds, [
        {
          exchangeId,
          source: slice?.source ?? null,
          feedId: slice?.feedId ?? null,
          topic: m.topic,
          key: m.key ?? null,
          payload: m.value ?? Buffer.alloc(0),
          // A slice is the hub's own record, not a feed: it cannot go through the ingest again.
          replayable: false,
          errorCode: error.code,
          errors,
          rejectedBy: 'aggregator',
        },
      ]);
      if (exchangeId)
        await this.audit.decide(this.ds, [{ exchangeId, outcome: 'rejected', kpiKeys: [] }]);
    } catch (e) {
      throw classify(e);
    }
  }
}
