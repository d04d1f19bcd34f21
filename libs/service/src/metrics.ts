import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { collectDefaultMetrics, Counter, Gauge, Histogram, register } from 'prom-client';

/**
 * One registry per process (each service is a process), with Node's default metrics under
 * their standard names (process_cpu_seconds_total, nodejs_heap_size_used_bytes...).
 */
collectDefaultMetrics();

function once<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

/** What `lgsp_aggregation_state_bytes` reports, read when the metrics are scraped. */
let heldState: (() => Readonly<Record<string, number>>) | undefined;

/**
 * Has `lgsp_aggregation_state_bytes` read the held state's bytes, by part, at each scrape:
 * counting them walks every group's arrays, too much to do on each publishing round.
 */
export function reportHeldState(read: () => Readonly<Record<string, number>>): void {
  heldState = read;
}

/** The hub's metrics; every service exposes the ones it moves at `GET /metrics`. */
export const METRICS = {
  feedsConsumed: once(
    'lgsp_feeds_consumed_total',
    () =>
      new Counter({
        name: 'lgsp_feeds_consumed_total',
        help: 'Feed records consumed',
        labelNames: ['service'],
      }),
  ),
  observationsConsumed: once(
    'lgsp_observations_consumed_total',
    () =>
      new Counter({
        name: 'lgsp_observations_consumed_total',
        help: 'Observations in consumed feeds that were accepted',
        labelNames: ['service'],
      }),
  ),
  feedsAccepted: once(
    'lgsp_feeds_accepted_total',
    () =>
      new Counter({
        name: 'lgsp_feeds_accepted_total',
        help: 'Feeds accepted',
        labelNames: ['service'],
      }),
  ),
  feedsRejected: once(
    'lgsp_feeds_rejected_total',
    () =>
      new Counter({
        name: 'lgsp_feeds_rejected_total',
        help: 'Feeds rejected to the DLQ, by the first error code',
        labelNames: ['service', 'code'],
      }),
  ),
  httpFeeds: once(
    'lgsp_http_feeds_total',
    () =>
      new Counter({
        name: 'lgsp_http_feeds_total',
        help: 'Requests to the HTTP ingest (POST /v1/feeds, /v1/feeds/csv), by response status',
        labelNames: ['status'],
      }),
  ),
  feedsDuplicate: once(
    'lgsp_feeds_duplicate_total',
    () =>
      new Counter({
        name: 'lgsp_feeds_duplicate_total',
        help: 'Feeds ignored as duplicates (source, feedId)',
      }),
  ),
  batchSize: once(
    'lgsp_batch_size',
    () =>
      new Histogram({
        name: 'lgsp_batch_size',
        help: 'Records per consumed batch',
        labelNames: ['group'],
        buckets: [1, 5, 10, 50, 100, 500, 1000, 5000],
      }),
  ),
  batchDuration: once(
    'lgsp_batch_duration_seconds',
    () =>
      new Histogram({
        name: 'lgsp_batch_duration_seconds',
        help: 'Time to handle a batch, commit included',
        labelNames: ['group'],
        buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      }),
  ),
  recordsSetAside: once(
    'lgsp_records_set_aside_total',
    () =>
      new Counter({
        name: 'lgsp_records_set_aside_total',
        help: 'Records (or undecodable batches) a consumer set aside on the DLQ so that the rest flow, by group and code',
        labelNames: ['group', 'code'],
      }),
  ),
  consumerLag: once(
    'lgsp_consumer_lag',
    () =>
      new Gauge({
        name: 'lgsp_consumer_lag',
        help: 'Records not yet committed by the group, per partition',
        labelNames: ['group', 'topic', 'partition'],
      }),
  ),
  kpiEventsWritten: once(
    'lgsp_kpi_events_written_total',
    () =>
      new Counter({
        name: 'lgsp_kpi_events_written_total',
        help: 'KPI events written to the outbox',
      }),
  ),
  kpiEventsPublished: once(
    'lgsp_kpi_events_published_total',
    () =>
      new Counter({
        name: 'lgsp_kpi_events_published_total',
        help: 'KPI events published to lgsp.kpi.v1',
      }),
  ),
  outboxBacklog: once(
    'lgsp_outbox_backlog',
    () => new Gauge({ name: 'lgsp_outbox_backlog', help: 'Outbox events not yet published' }),
  ),
  kpiFlushDuration: once(
    'lgsp_kpi_flush_duration_seconds',
    () =>
      new Histogram({
        name: 'lgsp_kpi_flush_duration_seconds',
        help: "Time to publish one aggregation group's changed KPI keys, commit included",
        buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      }),
  ),
  dirtyGroups: once(
    'lgsp_aggregation_groups_dirty',
    () =>
      new Gauge({
        name: 'lgsp_aggregation_groups_dirty',
        help: 'Aggregation groups with applied feeds whose KPI changes are not published yet',
      }),
  ),
  unpublishedAge: once(
    'lgsp_kpi_unpublished_seconds',
    () =>
      new Gauge({
        name: 'lgsp_kpi_unpublished_seconds',
        help: 'Age of the oldest applied KPI change not yet published, in seconds (0: none); up to KPI_FLUSH_BACKLOG_MAX_DELAY_MS while feeds wait',
      }),
  ),
  stateBytes: once(
    'lgsp_aggregation_state_bytes',
    () =>
      new Gauge({
        name: 'lgsp_aggregation_state_bytes',
        help: "Bytes of the held aggregation groups' typed arrays, by part (observations, itemSets, published, dirty, pending)",
        labelNames: ['part'],
        collect() {
          for (const [part, bytes] of Object.entries(heldState?.() ?? {}))
            this.set({ part }, bytes);
        },
      }),
  ),
  groupLoads: once(
    'lgsp_aggregation_group_loads_total',
    () =>
      new Counter({
        name: 'lgsp_aggregation_group_loads_total',
        help: 'Aggregation groups loaded from storage (start, rebalance, or changed elsewhere)',
      }),
  ),
};

@ApiTags('operations')
@Controller()
export class MetricsController {
  @Get('metrics')
  @Header('content-type', register.contentType)
  @ApiProduces(register.contentType)
  @ApiOkResponse({ description: 'Prometheus text format', schema: { type: 'string' } })
  metrics(): Promise<string> {
    return register.metrics();
  }
}
