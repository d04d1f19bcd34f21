import {
  BACKLOG_HINT_MS,
  type FlushClock,
  dueGroups,
  dueReason,
  nextHint,
} from './flush-policy.js';

const limits = { quietMs: 100, maxDelayMs: 30_000, backlogMaxDelayMs: 300_000 };
const T = 1_000_000;
/** Feeds arrive without pause: the last slice a moment ago, a stream of them. */
const streaming = (now: number, backlog: boolean): FlushClock => ({
  now,
  lastArrival: now - 10,
  recentSlices: 200,
  backlog,
  behindAt: backlog ? now : 0,
});

describe('dueGroups', () => {
  it('publishes every dirty group, oldest change first, once a trickle stops for the quiet period', () => {
    const dirty = [
      { code: '79', dirtySince: T + 50 },
      { code: '01', dirtySince: T },
    ];
    const clock = {
      now: T + 150,
      lastArrival: T + 50,
      recentSlices: 2,
      backlog: false,
      behindAt: 0,
    };
    expect(dueGroups(dirty, clock, limits)).toEqual(['01', '79']);
    expect(dueGroups(dirty, { ...clock, now: T + 149 }, limits)).toEqual([]);
  });

  it('waits ten quiet periods while slices stream in, so a pause of the sender is not the end', () => {
    const dirty = [{ code: '01', dirtySince: T }];
    const clock = { now: T + 500, lastArrival: T, recentSlices: 50, backlog: false, behindAt: 0 };
    expect(dueGroups(dirty, clock, limits)).toEqual([]);
    expect(dueGroups(dirty, { ...clock, now: T + 1_000 }, limits)).toEqual(['01']);
  });

  it('publishes nothing at quiet while more slices are known to be waiting', () => {
    const dirty = [{ code: '01', dirtySince: T }];
    const clock = { now: T + 5_000, lastArrival: T, recentSlices: 0, backlog: true, behindAt: T };
    expect(dueGroups(dirty, clock, limits)).toEqual([]);
  });

  it('keeps waiting through a slow ingest batch: the last slices said more were coming', () => {
    const dirty = [{ code: '01', dirtySince: T }];
    const clock = {
      now: T + 5_000,
      lastArrival: T + 1_000,
      recentSlices: 0,
      backlog: true,
      behindAt: T,
    };
    expect(dueGroups(dirty, clock, limits)).toEqual([]);
  });

  it('stops waiting for slices that were announced but never came (the ingest stopped)', () => {
    const dirty = [{ code: '01', dirtySince: T }];
    const clock = {
      now: T + BACKLOG_HINT_MS,
      lastArrival: T,
      recentSlices: 0,
      backlog: true,
      behindAt: T,
    };
    expect(dueGroups(dirty, clock, limits)).toEqual(['01']);
    expect(dueGroups(dirty, { ...clock, now: T + BACKLOG_HINT_MS - 1 }, limits)).toEqual([]);
  });

  it('publishes a group whose change is the max delay old while feeds keep arriving and the hub keeps up', () => {
    const dirty = [
      { code: '01', dirtySince: T },
      { code: '79', dirtySince: T + 20_000 },
    ];
    expect(dueGroups(dirty, streaming(T + 29_999, false), limits)).toEqual([]);
    expect(dueGroups(dirty, streaming(T + 30_000, false), limits)).toEqual(['01']);
  });

  it('while the hub is behind, holds a group until the backlog max delay instead', () => {
    const dirty = [{ code: '01', dirtySince: T }];
    expect(dueGroups(dirty, streaming(T + 30_000, true), limits)).toEqual([]);
    expect(dueGroups(dirty, streaming(T + 299_999, true), limits)).toEqual([]);
    expect(dueGroups(dirty, streaming(T + 300_000, true), limits)).toEqual(['01']);
  });

  it('once the hub has caught up, counts the max delay from then, not from the change', () => {
    // Applied at T while the hub was behind until T + 100 s; feeds keep arriving after that.
    const dirty = [{ code: '01', dirtySince: T }];
    const caughtUp = (now: number): FlushClock => ({
      ...streaming(now, false),
      behindAt: T + 100_000,
    });
    expect(dueGroups(dirty, caughtUp(T + 129_999), limits)).toEqual([]);
    expect(dueGroups(dirty, caughtUp(T + 130_000), limits)).toEqual(['01']);
  });

  it('never holds a change longer behind a backlog than without one', () => {
    const dirty = [{ code: '01', dirtySince: T }];
    const short = { ...limits, backlogMaxDelayMs: 5_000 };
    expect(dueGroups(dirty, streaming(T + 29_999, true), short)).toEqual([]);
    expect(dueGroups(dirty, streaming(T + 30_000, true), short)).toEqual(['01']);
  });

  it('says why groups are due: the end of a burst, or which max delay their changes reached', () => {
    const trickle = { now: T + 150, lastArrival: T, recentSlices: 2, backlog: false, behindAt: 0 };
    expect(dueReason(trickle, limits)).toMatch(/^quiet: no slice for 150 ms/);
    expect(dueReason(streaming(T, false), limits)).toMatch(
      /waited 30000 ms .*KPI_FLUSH_MAX_DELAY_MS/,
    );
    expect(dueReason(streaming(T, true), limits)).toMatch(
      /300000 ms old .*KPI_FLUSH_BACKLOG_MAX_DELAY_MS/,
    );
  });
});

describe('nextHint', () => {
  it('takes the word of the most recently forwarded slice, not of the partition read last', () => {
    // The ingest's last batch said nothing waits; an older slice of another partition is read after it.
    let hint = nextHint({ at: -1, waiting: false }, T, true);
    hint = nextHint(hint, T + 2_000, false);
    hint = nextHint(hint, T + 1_000, true);
    expect(hint).toEqual({ at: T + 2_000, waiting: false });
    expect(nextHint(hint, T + 2_000, true).waiting).toBe(true);
  });
});
