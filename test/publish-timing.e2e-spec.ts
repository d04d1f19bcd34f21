/**
 * When the aggregator publishes while more feeds are said to be waiting (the ingest's
 * `lgsp-backlog` header on each slice): a backfill longer than KPI_FLUSH_BACKLOG_MAX_DELAY_MS
 * is published in steps of it, and an ingest that said "more is coming" and then died holds
 * the publication only for BACKLOG_HINT_MS (10 s), not until the next feed.
 *
 * The slices are produced here, as the ingest would (its placement, key and header), so that
 * what the last slice says is not left to the timing of an ingest batch; only an aggregator
 * runs (`startTestHub` with the aggregator alone), on a database of its own.
 */
import { AdminUnits } from '@app/catalogue';
import {
  ACCEPTED_FEED_SCHEMA,
  HUB_HEADERS,
  sliceFeed,
  slicePlacement,
  TOPIC_SPECS,
  TOPICS,
} from '@app/contract';
import {
  eventually,
  type HubProcesses,
  kafkaClient,
  startTestHub,
  TopicWatcher,
} from '@app/testing';
import type { Producer } from 'kafkajs';

const units = AdminUnits.load('data/admin-units');
const PARTITIONS = TOPIC_SPECS.find((t) => t.topic === TOPICS.slices)!.numPartitions;
const place = slicePlacement(units, PARTITIONS);
/** The province the feeds report, in the 2008 boundary set of 2024's months. */
const AREA = '58';
const PERIOD = '2024-01';
const KEY = `MBB_SUB_P100|${AREA}|${PERIOD}`;

interface KpiEvent {
  revision: number;
  numerator: number | null;
  inputs: { feedId: string }[];
}

interface AggregatorHealth {
  checks: { kpis: { detail: { waiting: boolean; pending: { groups: number } } } };
}

/** An aggregator of its own, with `env`, and a producer of slices that say `more` or not. */
class Rig {
  readonly kpis = new TopicWatcher(kafkaClient(), TOPICS.kpi);
  hub!: HubProcesses;
  private run!: string;
  private producer!: Producer;
  private sent = 0;

  constructor(
    private readonly name: string,
    private readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  async start(): Promise<this> {
    ({ hub: this.hub, run: this.run } = await startTestHub(this.name, this.port, this.env, [
      'aggregator',
      'relay',
    ]));
    await this.kpis.start();
    this.producer = kafkaClient().producer();
    await this.producer.connect();
    return this;
  }

  async stop(): Promise<void> {
    await this.producer?.disconnect();
    await this.kpis.stop();
    await this.hub?.stopAll();
  }

  /**
   * One feed of Viettel's mobile broadband subscriptions in AREA for PERIOD, each a correction
   * of the one before (a later `sentAt`), as the ingest forwards it: its slices on their
   * group's partition, with the ingest's word on whether more feeds wait behind it.
   */
  async send(value: number, more: boolean): Promise<string> {
    const n = ++this.sent;
    const feedId = `timing-${this.run}-${n}`;
    const slices = sliceFeed(
      {
        schema: ACCEPTED_FEED_SCHEMA,
        source: 'viettel',
        feedId,
        sentAt: new Date(Date.UTC(2024, 1, 5, 8, 0, n)).toISOString(),
        period: PERIOD,
        status: 'actual',
        observations: [{ area: AREA, measure: 'mbb_subscriptions', value }],
        receivedAt: new Date().toISOString(),
        origin: { channel: 'kafka' },
      },
      units,
    );
    await this.producer.send({
      topic: TOPICS.slices,
      acks: -1,
      messages: slices.map((s) => ({
        key: s.group,
        partition: place(s.group),
        value: JSON.stringify(s),
        headers: { [HUB_HEADERS.backlog]: more ? '1' : '0' },
      })),
    });
    return feedId;
  }

  /** KEY's events on lgsp.kpi.v1 so far, in arrival order. */
  events(): KpiEvent[] {
    return this.kpis.byKey(KEY).map((r) => r.json<KpiEvent>());
  }

  /** Waits for an event of KEY that cites `feedId`; resolves to when it was seen. */
  async eventCiting(feedId: string, timeoutMs: number): Promise<number> {
    await eventually(
      async () => this.events().some((e) => e.inputs.some((i) => i.feedId === feedId)) || undefined,
      { timeoutMs, intervalMs: 50, what: `an event of ${KEY} citing ${feedId}` },
    );
    return Date.now();
  }
}

describe('a backfill longer than KPI_FLUSH_BACKLOG_MAX_DELAY_MS', () => {
  // Max delay 1 s, backlog max delay 4 s: while the slices say more is waiting, only the
  // second holds.
  const rig = new Rig('timingsteps', 13_800, {
    KPI_FLUSH_MAX_DELAY_MS: '1000',
    KPI_FLUSH_BACKLOG_MAX_DELAY_MS: '4000',
  });
  beforeAll(() => rig.start());
  afterAll(() => rig.stop());

  it('is published every 4 s while it streams in, one event per step, not one per feed', async () => {
    const began = Date.now();
    await rig.send(1_000, true);
    // Each feed corrects the one before: an event cites the latest applied when it was built.
    const firstEvent = eventually(async () => (rig.events().length > 0 ? Date.now() : undefined), {
      timeoutMs: 20_000,
      intervalMs: 50,
      what: `a first event of ${KEY}`,
    });
    // A feed every 250 ms for 10 s, each saying more are coming: never quiet, never caught up.
    let sent = 1;
    while (Date.now() - began < 10_000) {
      await new Promise((r) => setTimeout(r, 250));
      await rig.send(1_000 * ++sent, true);
    }
    const streamEnded = Date.now();
    const seen = await firstEvent;
    // Not at the max delay (1 s), nor after the stream: at the backlog max delay.
    expect(seen - began).toBeGreaterThanOrEqual(4_000);
    expect(seen).toBeLessThan(streamEnded);
    // Steps at about 4 s and 8 s of the 10 s stream, each with the feeds applied by then.
    const during = rig.events();
    expect(during.length).toBeGreaterThanOrEqual(1);
    expect(during.length).toBeLessThanOrEqual(3);
    expect(during[0]!.numerator).toBeGreaterThanOrEqual(1_000 * 5);
    expect(during[0]!.numerator).toBeLessThan(1_000 * sent);

    // The stream's last feed is published too, at the latest 4 s after it.
    await eventually(async () => rig.events().at(-1)?.numerator === 1_000 * sent || undefined, {
      timeoutMs: 20_000,
      what: `the last feed's value (${1_000 * sent}) in ${KEY}`,
    });
    const events = rig.events();
    expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => i + 1));
    expect(events.length).toBeLessThan(sent / 4);
  });
});

describe('slices that say more is coming, and then none (the ingest died mid-backfill)', () => {
  // Max delay 60 s: only the end of the ingest's word can publish within it.
  const rig = new Rig('timinghint', 13_810, { KPI_FLUSH_MAX_DELAY_MS: '60000' });
  beforeAll(() => rig.start());
  afterAll(() => rig.stop());

  it('are published once that word is 10 s old; a slice that says none waits, at once', async () => {
    let sent = Date.now();
    const last = await rig.send(5_000, false);
    const seenLast = await rig.eventCiting(last, 20_000);
    expect(seenLast - sent).toBeLessThan(5_000);

    sent = Date.now();
    const orphan = await rig.send(6_000, true);
    // Meanwhile /health says why the group waits: more slices are known to be waiting.
    await eventually(
      async () => {
        const h = await rig.hub.getJson<AggregatorHealth>('aggregator', '/health');
        const k = h.checks.kpis.detail;
        return (k.waiting && k.pending.groups === 1) || undefined;
      },
      { timeoutMs: 5_000, intervalMs: 50, what: 'the aggregator to say it waits for more slices' },
    );
    const seen = await rig.eventCiting(orphan, 40_000);
    expect(seen - sent).toBeGreaterThanOrEqual(10_000);
    expect(seen - sent).toBeLessThan(30_000);
    expect(rig.events().at(-1)).toMatchObject({ revision: 2, numerator: 6_000 });
  });
});
