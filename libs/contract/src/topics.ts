/** Every topic the hub reads or writes. External names are fixed by contract v1. */
export const TOPICS = {
  /** Feeds from operators, agencies and the hub's HTTP ingest. Key: source id. */
  feeds: 'lgsp.feeds.v1',
  /** Rejected records, bytes unchanged, reasons in headers. */
  dlq: 'lgsp.feeds.dlq.v1',
  /** KPI events, log-compacted. Key: `KPI|AREA|PERIOD`. */
  kpi: 'lgsp.kpi.v1',
  /**
   * Re-based history (contract v1.1): 2025 provinces' figures for periods before the reform,
   * log-compacted, with revisions of their own. Key: `KPI|AREA|PERIOD` (a 2025 code).
   */
  kpiRebased: 'lgsp.kpi.rebased.v1',
  /**
   * Internal: validated, normalised feeds, one slice per aggregation group, from ingest to
   * the aggregator. Key: the group (a 2025 province code). Replaces `lgsp.feeds.accepted.v1`.
   */
  slices: 'lgsp.feed-slices.v1',
} as const;

/** A source's own feed topic, which only its principal may write (a secured deployment). */
export const SOURCE_TOPIC_PREFIX = `${TOPICS.feeds}.`;
export const sourceTopic = (source: string): string => `${SOURCE_TOPIC_PREFIX}${source}`;
/** The source a per-source topic belongs to; undefined for any other topic. */
export const sourceOfTopic = (topic: string): string | undefined =>
  topic.startsWith(SOURCE_TOPIC_PREFIX) ? topic.slice(SOURCE_TOPIC_PREFIX.length) : undefined;

export interface TopicSpec {
  readonly topic: string;
  readonly numPartitions: number;
  readonly configEntries?: { name: string; value: string }[];
}

/**
 * The largest record the hub's topics take. A contract-legal feed (10,000 observations, item
 * sets of up to 64-character codes) can pass Kafka's default of 1 MB; so can a batch of them.
 */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;
/**
 * What a producer puts in one request at most (a record larger than this goes alone). kafkajs
 * copies a request several times while encoding it, so smaller requests cost less CPU per
 * event (docs/performance.md, "Measurements behind the code").
 */
export const MAX_REQUEST_BYTES = 1024 * 1024;

const big = { name: 'max.message.bytes', value: String(MAX_RECORD_BYTES) };

export const TOPIC_SPECS: readonly TopicSpec[] = [
  { topic: TOPICS.feeds, numPartitions: 6, configEntries: [big] },
  { topic: TOPICS.dlq, numPartitions: 3, configEntries: [big] },
  // 34 groups, placed by size (slicePlacement): 2 to 4 per partition, for up to 12 aggregator instances.
  { topic: TOPICS.slices, numPartitions: 12, configEntries: [big] },
  ...[TOPICS.kpi, TOPICS.kpiRebased].map((topic) => ({
    topic,
    numPartitions: 6,
    configEntries: [
      big,
      { name: 'cleanup.policy', value: 'compact' },
      { name: 'min.cleanable.dirty.ratio', value: '0.1' },
    ],
  })),
];

/** The spec of a per-source feed topic. */
export const sourceTopicSpec = (source: string): TopicSpec => ({
  topic: sourceTopic(source),
  numPartitions: 3,
  configEntries: [big],
});

/** Headers the hub's own producers put on a feed record (HTTP ingest, DLQ replay). */
export const HUB_HEADERS = {
  /** `http` or `replay`; absent for a record a source produced itself. */
  channel: 'lgsp-channel',
  /** The audit log's id of the exchange, when the HTTP edge recorded it first. */
  exchangeId: 'lgsp-exchange-id',
  /** The DLQ entry a replayed record comes from. */
  replayOf: 'lgsp-replay-of',
  /**
   * On a feed slice: `1` when the ingest had more feeds waiting as it forwarded this one. The
   * aggregator then lets KPI changes accumulate (up to KPI_FLUSH_BACKLOG_MAX_DELAY_MS) rather than
   * publishing every key after every batch of a backfill.
   */
  backlog: 'lgsp-backlog',
} as const;

/** Headers the hub puts on a DLQ record. */
export const DLQ_HEADERS = {
  errorCode: 'lgsp-error-code',
  /** JSON array of every error found: `[{ code, path, message }]`. */
  errors: 'lgsp-errors',
  sourceTopic: 'lgsp-source-topic',
  sourcePartition: 'lgsp-source-partition',
  sourceOffset: 'lgsp-source-offset',
  /** On an undecodable batch set aside whole: its last offset (`lgsp-source-offset` the first). */
  sourceLastOffset: 'lgsp-source-last-offset',
  /** Set when the record's value was too large to copy: its size; the DLQ index has the bytes. */
  valueOmitted: 'lgsp-value-omitted-bytes',
  rejectedAt: 'lgsp-rejected-at',
  rejectedBy: 'lgsp-rejected-by',
} as const;
