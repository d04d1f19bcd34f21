import { BACKLOG_HINT_MS, type FlushClock, dueGroups } from './flush-policy.js';

const limits = { quietMs: 100, maxDelayMs: 30_000, backlogMaxDelayMs: 300_000 };
const T = 1_000_000;
/** Feeds arrive without pause: the last slice a moment ago, a stream of them. */
const streaming = (now: number, backlog: boolean): FlushClock => ({
  now,
  lastArrival: now - 10,
  recentSlices: 200,
  backlog,
});

describe('dueGroups', () => {
  it('publishes every dirty group, oldest change first, once a trickle stops for the quiet period', () => {
    const dirty = [
      { code: '79', dirtySince: T + 50 },
      { code: '01', dirtySince: T },
    ];
    const clock = { now: T + 150, lastArrival: T + 50, recentSlices: 2, backlog: false };
    expect(dueGroups(dirty, clock, limits)).toEqual(['01', '79']);
    expect(dueGroups(dirty, { ...clock, now: T + 149 }, limits)).toEqual([]);
  });

  it('waits ten quiet periods while slices stream in, so a pause of the sender is not the end', () => {
    const dirty = [{ code: '01', dirtySince: T }];
    const clock = { now: T + 500, lastArrival: T, recentSlices: 50, backlog: false };
    expect(dueGroups(dirty, clock, limits)).toEqual([]);
    expect(dueGroups(dirty, { ...clock, now: T + 1_000 }, limits)).toEqual(['01']);
  });

  it('publishes nothing at quiet while more slices are known to be waiting', () => {
    const dirty = [{ code: '01', dirtySince: T }];
    const clock = { now: T + 5_000, lastArrival: T, recentSlices: 0, backlog: true };
    expect(dueGroups(dirty, clock, limits)).toEqual([]);
  });

  it('keeps waiting through a slow ingest batch: the last slices said more were coming', () => {
    const dirty = [{ code: '01', dirtySince: T }];
    const clock = { now: T + 5_000, lastArrival: T + 1_000, recentSlices: 0, backlog: true };
    expect(dueGroups(dirty, clock, limits)).toEqual([]);
  });

  it('stops waiting for slices that were announced but never came (the ingest stopped)', () => {
    const dirty = [{ code: '01', dirtySince: T }];
    const clock = { now: T + BACKLOG_HINT_MS, lastArrival: T, recentSlices: 0, backlog: true };
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

  it('never holds a change longer behind a backlog than without one', () => {
    const dirty = [{ code: '01', dirtySince: T }];
    const short = { ...limits, backlogMaxDelayMs: 5_000 };
    expect(dueGroups(dirty, streaming(T + 29_999, true), short)).toEqual([]);
    expect(dueGroups(dirty, streaming(T + 30_000, true), short)).toEqual(['01']);
  });
});
