/**
 * When a group's dirty KPI keys are due to be published (the debounce of KpiPublisher), as a
 * pure function of the clock: plain data in, the due groups out, oldest change first.
 *
 * - A burst ends once no slice has arrived for the quiet period and nothing is known to be
 *   waiting (see BACKLOG_HINT_MS): then every dirty group is due. The quiet period is `quietMs`, ten times that
 *   while slices stream in (more than STREAM_RATE in the last second), so that a pause of the
 *   sender within a backfill is not taken for its end.
 * - While feeds keep arriving, a group is due when its oldest unpublished change has waited
 *   `maxDelayMs` with the hub keeping up (counted from the change, or from when the hub was
 *   last behind, whichever is later), and in any case once it is `backlogMaxDelayMs` old. Publishing a group in the middle of a backlog is work that its next
 *   publication redoes (a quarter or a year moves with every month applied), and it takes
 *   the time the backlog needed (measured: docs/performance.md, "Measurements behind the code").
 */
export const STREAM_RATE = 20;

/**
 * How long "more is waiting", as the last slices said, holds without a new slice. Until then
 * the next slice is expected: the ingest was still behind when it forwarded the last one.
 * Long enough for a slow ingest's batch of feeds (shorter, a slow batch was taken for the end
 * of the backfill, and every group was published after it); a safety net for an
 * ingest that stopped, not a wait a trickle ever sees (its slices say nothing waits).
 */
export const BACKLOG_HINT_MS = 10_000;

export interface FlushLimits {
  readonly quietMs: number;
  readonly maxDelayMs: number;
  readonly backlogMaxDelayMs: number;
}

export interface FlushClock {
  readonly now: number;
  /** When the last slices were applied (0: never). */
  readonly lastArrival: number;
  /** Slices applied in the last second. */
  readonly recentSlices: number;
  /** The last slices said more were waiting: the consumer's lag, or the ingest's. */
  readonly backlog: boolean;
  /** When more slices were last known to be waiting (0: never). */
  readonly behindAt: number;
}

/** The ingest's "more waiting", as of the slice it forwarded at `at` (its timestamp). */
export interface IngestHint {
  readonly at: number;
  readonly waiting: boolean;
}

/**
 * The hint after reading one more slice: the most recently forwarded slice's word counts. A
 * partition read last may hold older slices, whose "more waiting" the ingest's last batch has
 * since answered (the last slices of a backfill are spread over the partitions).
 */
export const nextHint = (hint: IngestHint, at: number, waiting: boolean): IngestHint =>
  at >= hint.at ? { at, waiting } : hint;

/** More slices are known to be waiting (the hub is behind). */
export const isWaiting = (clock: FlushClock): boolean =>
  clock.backlog && clock.now - clock.lastArrival < BACKLOG_HINT_MS;

export interface DirtyGroup {
  readonly code: string;
  /** When its oldest unpublished change was applied. */
  readonly dirtySince: number;
}

export function dueGroups(
  dirty: readonly DirtyGroup[],
  clock: FlushClock,
  limits: FlushLimits,
): string[] {
  const quiet = isQuiet(clock, limits);
  const waiting = isWaiting(clock);
  const cap = longestDelayMs(limits);
  return dirty
    .filter(
      (g) =>
        quiet ||
        clock.now - g.dirtySince >= cap ||
        (!waiting && clock.now - Math.max(g.dirtySince, clock.behindAt) >= limits.maxDelayMs),
    )
    .sort((a, b) => a.dirtySince - b.dirtySince)
    .map((g) => g.code);
}

/** The longest any change waits: the backlog max delay, never less than the max delay. */
const longestDelayMs = (limits: FlushLimits): number =>
  Math.max(limits.maxDelayMs, limits.backlogMaxDelayMs);

/** Why groups are due now (for the log): the burst ended, or changes reached a max delay. */
export function dueReason(clock: FlushClock, limits: FlushLimits): string {
  if (isQuiet(clock, limits))
    return `quiet: no slice for ${clock.now - clock.lastArrival} ms and none known to be waiting`;
  return isWaiting(clock)
    ? `changes ${longestDelayMs(limits)} ms old while more feeds wait (KPI_FLUSH_BACKLOG_MAX_DELAY_MS)`
    : `changes waited ${limits.maxDelayMs} ms while feeds kept arriving and the hub kept up (KPI_FLUSH_MAX_DELAY_MS)`;
}

/** A burst has ended: no slice for the quiet period, and none known to be waiting. */
export function isQuiet(clock: FlushClock, limits: FlushLimits): boolean {
  const quietMs = limits.quietMs * (clock.recentSlices > STREAM_RATE ? 10 : 1);
  return clock.now - clock.lastArrival >= quietMs && !isWaiting(clock);
}
