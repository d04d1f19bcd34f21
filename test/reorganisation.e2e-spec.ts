/**
 * Across the 2025 reorganisation (contract v1.1), on the built services, a real broker and a
 * real PostgreSQL: old Hà Nam (35), Nam Định (36) and Ninh Bình (37) report for 2024 and the
 * first half of 2025; new Ninh Bình (37, formed from all three) and new Lào Cai (15, from old
 * Lào Cai 10 and Yên Bái 15) report for 2026. A reference value never crosses into another
 * unit; new Ninh Bình's history is re-based on lgsp.kpi.rebased.v1 and kept current through
 * a late correction and a crash; a series never mixes units; every figure names its unit.
 */
import { AdminUnits, boundarySetOf, type KpiKey, mustParsePeriod } from '@app/catalogue';
import type { KpiEvent } from '@app/contract';
import {
  eventually,
  FeedSender,
  type HubProcesses,
  kafkaClient,
  recomputeKeys,
  startTestHub,
  type TestFeed,
  testFeed,
  type TestFeedArgs,
  TopicWatcher,
} from '@app/testing';

const units = AdminUnits.load('data/admin-units');
let run: string;
let hub: HubProcesses;
let sender: FeedSender;
let published: TopicWatcher;
let rebased: TopicWatcher;
const sent: TestFeed[] = [];

const feed = (...args: TestFeedArgs): TestFeed => testFeed(run, ...args);

async function send(...feeds: TestFeed[]): Promise<void> {
  sent.push(...feeds);
  await sender.send(feeds);
}

const mbb = (values: Record<string, number>) =>
  Object.entries(values).map(([area, value]) => ({ area, measure: 'mbb_subscriptions', value }));

async function api<T>(path: string): Promise<T> {
  return hub.getJson<T>('api', path);
}
const items = async (path: string) => (await api<{ items: KpiEvent[] }>(path)).items;
const one = async (path: string) =>
  eventually(async () => (await items(path))[0], { what: `${path} to answer` });

/** What a warehouse compares: the figures that make an event. */
const figures = (e: {
  value: number | null;
  numerator: number | null;
  denominator: number | null;
  status: string;
  completeness: object;
}) => ({
  value: e.value,
  numerator: e.numerator,
  denominator: e.denominator,
  status: e.status,
  completeness: e.completeness,
});

// Two communes of today's Ninh Bình: one formed from whole old communes, one that took part
// of a split one.
const communes37 = units.all('2025').filter((u) => u.level === 'commune' && u.province === '37');
const EXACT = communes37.find((u) => {
  const o = units.communeOrigin(u.code)!;
  return o.split.length === 0 && o.from.length >= 2;
})!;
const SPLIT = communes37.find((u) => units.communeOrigin(u.code)!.split.length > 0)!;
const oldCommunes = [EXACT, SPLIT].flatMap((u) => units.communeOrigin(u.code)!.from);

const NEW_NINH_BINH_2024: KpiKey = { kpi: 'MBB_SUB_P100', bs: '2025', area: '37', period: '2024' };

beforeAll(async () => {
  ({ hub, run } = await startTestHub('reform', 14_200));
  const kafka = kafkaClient();
  published = await eventually(() => new TopicWatcher(kafka, 'lgsp.kpi.v1').start('now'));
  rebased = await eventually(() => new TopicWatcher(kafka, 'lgsp.kpi.rebased.v1').start('now'));
  sender = await new FeedSender(kafka).start();
  const at = '2026-11-01T00:00:00Z';
  await send(
    feed('gso', 'gso-2024', at, '2024', [
      { area: '35', measure: 'population', value: 850_000 },
      { area: '36', measure: 'population', value: 1_830_000 },
      { area: '37', measure: 'population', value: 1_000_000 },
      // old Yên Bái only: old Lào Cai has none
      { area: '15', measure: 'population', value: 840_000 },
    ]),
    feed('viettel', 'vt-2024', at, '2024', [
      ...mbb({ '35': 500_000, '36': 1_200_000, '37': 600_000 }),
      { area: '35', measure: 'bts_sites', items: ['S-1', 'S-2'] },
      { area: '36', measure: 'bts_sites', items: ['S-3'] },
    ]),
    // VNPT reports site S-2 in Nam Định, Viettel in Hà Nam: shared only in the new province
    feed('vnpt', 'vnpt-2024', at, '2024', [
      ...mbb({ '35': 200_000, '36': 400_000, '37': 250_000 }),
      { area: '36', measure: 'bts_sites', items: ['S-2', 'S-4'] },
    ]),
    feed(
      'viettel',
      'vt-2025-06',
      at,
      '2025-06',
      mbb({ '35': 520_000, '36': 1_250_000, '37': 610_000 }),
    ),
    feed(
      'vnpt',
      'vnpt-2025-06',
      at,
      '2025-06',
      mbb({ '35': 210_000, '36': 410_000, '37': 260_000 }),
    ),
    feed('viettel', 'vt-2026-10', at, '2026-10', mbb({ '37': 12_500, '15': 9_000 })),
    feed('viettel', 'vt-communes', at, '2024-06', [
      // fixed broadband: the province's mobile broadband series stay as they are
      ...oldCommunes.map((area, i) => ({ area, measure: 'fbb_subscriptions', value: 1_000 + i })),
    ]),
    feed(
      'gso',
      'gso-communes',
      at,
      '2024',
      oldCommunes.map((area) => ({ area, measure: 'population', value: 5_000 })),
    ),
  );
  await one('/v1/kpis?kpi=MBB_SUB_P100&area=15&areaSet=2025&period=2026-10');
  await eventually(
    async () =>
      (await items('/v1/kpis?kpi=MBB_SUB_P100&area=37&period=2025-H1&basis=rebased'))[0]
        ?.numerator === 3_260_000 || undefined,
    { what: "new Ninh Bình's re-based 2025-H1" },
  );
});

afterAll(async () => {
  await Promise.all([sender?.stop(), published?.stop(), rebased?.stop(), hub?.stopAll()]);
});

describe('across the 2025 reorganisation', () => {
  it("never divides a 2026 figure of new Ninh Bình or new Lào Cai by an old unit's population", async () => {
    const ninhBinh = await one('/v1/kpis?kpi=MBB_SUB_P100&area=37&areaSet=2025&period=2026-10');
    // all three old provinces have a 2024 population: their sum, said in the note
    expect(ninhBinh).toMatchObject({
      areaSet: '2025',
      numerator: 12_500,
      denominator: 850_000 + 1_830_000 + 1_000_000,
      denominatorPeriod: '2024',
      note: 'denominator population: the sum of old units 35, 36, 37, taken from 2024',
    });
    expect(ninhBinh.value).toBeCloseTo((12_500 / 3_680_000) * 100, 10);
    // old Lào Cai (10) has none: no value, rather than Yên Bái's population alone
    const laoCai = await one('/v1/kpis?kpi=MBB_SUB_P100&area=15&areaSet=2025&period=2026-10');
    expect(laoCai).toMatchObject({ areaSet: '2025', value: null, denominator: null });
    expect(laoCai.note).toBe('no population for 15 in or before 2026-10: none for old unit(s) 10');
    for (const e of [ninhBinh, laoCai])
      expect(figures(e)).toEqual(figures(recomputeKeys(sent, units, [{ ...e, bs: '2025' }])[0]!));
  });

  it("re-bases new Ninh Bình's 2024 and 2025-H1 over its old provinces, as a recomputation does", async () => {
    const keys: KpiKey[] = [
      NEW_NINH_BINH_2024,
      { ...NEW_NINH_BINH_2024, period: '2025-H1' },
      { ...NEW_NINH_BINH_2024, period: '2025-06' },
      { ...NEW_NINH_BINH_2024, kpi: 'BTS_SITE_SHARE' },
    ];
    const expected = recomputeKeys(sent, units, keys);
    for (const [i, k] of keys.entries()) {
      const e = await one(`/v1/kpis?kpi=${k.kpi}&area=37&period=${k.period}&basis=rebased`);
      expect([k.kpi, k.period, figures(e)]).toEqual([k.kpi, k.period, figures(expected[i]!)]);
      expect(e).toMatchObject({
        areaSet: '2025',
        basis: 'rebased-2025',
        rebasedFrom: ['35', '36', '37'].map((area) => ({ areaSet: '2008', area })),
      });
    }
    const [year, half, , sites] = await Promise.all(
      keys.map((k) => one(`/v1/kpis?kpi=${k.kpi}&area=37&period=${k.period}&basis=rebased`)),
    );
    // the numbers themselves: sums over the old provinces, the ratio recomputed
    expect([year!.numerator, year!.denominator]).toEqual([3_150_000, 3_680_000]);
    expect(year!.value).toBeCloseTo((3_150_000 / 3_680_000) * 100, 10);
    expect(half).toMatchObject({
      numerator: 3_260_000,
      denominator: 3_680_000,
      denominatorPeriod: '2024',
      status: 'provisional',
    });
    // S-2: Viettel in Hà Nam, VNPT in Nam Định, shared in the new province and in neither old one
    expect([sites!.numerator, sites!.denominator, sites!.value]).toEqual([1, 4, 25]);
    const oldHaNam = await one('/v1/kpis?kpi=BTS_SITE_SHARE&area=35&areaSet=2008&period=2024');
    expect(oldHaNam.numerator).toBe(0);
    // old Ninh Bình keeps its own figures, under the same code
    const oldNinhBinh = await one('/v1/kpis?kpi=MBB_SUB_P100&area=37&areaSet=2008&period=2024');
    expect([oldNinhBinh.areaSet, oldNinhBinh.numerator]).toEqual(['2008', 850_000]);
    // and the topic says what the API says
    const latest = rebased.latestByKey<KpiEvent>().get('MBB_SUB_P100|37|2024');
    expect(latest && figures(latest)).toEqual(figures(year!));
  });

  it("carries a late correction of old Hà Nam into new Ninh Bình's history exactly once, through a crash", async () => {
    const before = await one('/v1/kpis?kpi=MBB_SUB_P100&area=37&period=2024&basis=rebased');
    await hub.kill('aggregator');
    await send(
      feed('viettel', 'vt-2024-fix', '2026-11-20T00:00:00Z', '2024', mbb({ '35': 540_000 })),
    );
    await hub.start('aggregator');
    const after = await eventually(
      async () => {
        const e = (await items('/v1/kpis?kpi=MBB_SUB_P100&area=37&period=2024&basis=rebased'))[0];
        return e && e.revision > before.revision ? e : undefined;
      },
      { what: 'the re-based 2024 figure to take the correction' },
    );
    expect(after.revision).toBe(before.revision + 1);
    expect(after.numerator).toBe(3_190_000);
    expect(figures(after)).toEqual(figures(recomputeKeys(sent, units, [NEW_NINH_BINH_2024])[0]!));
    // each revision once on the topic, the last one the API's
    await eventually(
      () =>
        rebased.latestByKey<KpiEvent>().get('MBB_SUB_P100|37|2024')?.revision === after.revision ||
        undefined,
      { what: 'the corrected event on lgsp.kpi.rebased.v1' },
    );
    const revisions = rebased
      .byKey('MBB_SUB_P100|37|2024')
      .map((r) => r.json<KpiEvent>())
      .map((e) => [e.revision, e.numerator]);
    expect([...new Map(revisions.map(([r, n]) => [r, n])).entries()]).toEqual([
      [1, 3_150_000],
      [2, 3_190_000],
    ]);
    // old Ninh Bình's own 2024 figure did not move; old Hà Nam's did, once
    const oldNinhBinh = await one('/v1/kpis?kpi=MBB_SUB_P100&area=37&areaSet=2008&period=2024');
    expect(oldNinhBinh.revision).toBe(1);
    const oldHaNam = await one('/v1/kpis?kpi=MBB_SUB_P100&area=35&areaSet=2008&period=2024');
    expect([oldHaNam.revision, oldHaNam.numerator]).toEqual([2, 740_000]);
  });

  it('never mixes units in a series, and says which unit it is', async () => {
    type Series = { areaSet: string; basis: string; note: string; items: KpiEvent[] };
    const periodsOf = (s: Series) => s.items.map((e) => e.period);
    const today = await api<Series>('/v1/kpis/series?kpi=MBB_SUB_P100&area=37');
    expect(today.areaSet).toBe('2025');
    expect(today.note).toMatch(/the unit the code names today/);
    // 2025: the year spans the reform; its first half read over the old provinces
    expect(periodsOf(today)).toEqual(['2025', '2026', '2026-H2', '2026-Q4', '2026-10']);
    expect(today.items.every((e) => e.areaSet === '2025' && !e.basis)).toBe(true);

    const old = await api<Series>('/v1/kpis/series?kpi=MBB_SUB_P100&area=37&areaSet=2008');
    expect(periodsOf(old)).toEqual(['2024', '2025-H1', '2025-Q2', '2025-06']);
    expect(old.items.every((e) => e.areaSet === '2008')).toBe(true);

    const history = await api<Series>(
      '/v1/kpis/series?kpi=MBB_SUB_P100&area=37&areaSet=2025&basis=rebased',
    );
    expect(periodsOf(history)).toEqual([
      '2024',
      '2025',
      '2025-H1',
      '2025-Q2',
      '2025-06',
      '2026',
      '2026-H2',
      '2026-Q4',
      '2026-10',
    ]);
    expect(history.items.every((e) => e.areaSet === '2025')).toBe(true);
    const R = 'rebased-2025';
    const P = 'published';
    expect(history.items.map((e) => e.basis ?? P)).toEqual([R, P, R, R, R, P, P, P, P]);
    // a fall that never happened is gone: 2024 re-based is of the same 3.7 M people as 2026
    expect(history.items[0]!.denominator).toBe(history.items.at(-1)!.denominator);

    expect((await fetch(hub.url('api', '/v1/kpis/series?kpi=MBB_SUB_P100&area=35'))).status).toBe(
      200,
    );
    const refused = await fetch(
      hub.url('api', '/v1/kpis/series?kpi=MBB_SUB_P100&area=35&areaSet=2008&basis=rebased'),
    );
    expect(refused.status).toBe(400);
  });

  it('names the unit of every figure: events, API items, the change feed and CSV rows', async () => {
    const ours = (w: TopicWatcher) =>
      w.records.filter((r) => /\|(15|35|36|37)\|/.test(r.key)).map((r) => r.json<KpiEvent>());
    expect(ours(published).length).toBeGreaterThan(0);
    for (const e of ours(published)) {
      expect(e.areaSet).toBe(boundarySetOf(mustParsePeriod(e.period)));
      expect(e.basis).toBeUndefined();
    }
    expect(ours(rebased).length).toBeGreaterThan(0);
    for (const e of ours(rebased)) expect([e.areaSet, e.basis]).toEqual(['2025', 'rebased-2025']);

    for (const path of [
      '/v1/kpis?area=37',
      '/v1/kpis?area=37&basis=rebased',
      '/v1/kpi-changes?limit=10000',
      '/v1/kpi-changes?limit=10000&basis=rebased',
    ]) {
      const all = await items(path);
      expect([path, all.length > 0]).toEqual([path, true]);
      expect([path, all.filter((e) => e.areaSet !== '2008' && e.areaSet !== '2025')]).toEqual([
        path,
        [],
      ]);
    }
    const changes = await items('/v1/kpi-changes?limit=10000&basis=rebased');
    expect(changes.every((e) => e.basis === 'rebased-2025')).toBe(true);

    const csv = await (await fetch(hub.url('api', '/v1/kpis?area=37&format=csv'))).text();
    const [header, ...rows] = csv.trim().split('\r\n');
    const col = header!.split(',').indexOf('areaSet');
    expect(col).toBeGreaterThan(0);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(['2008', '2025']).toContain(row.split(',')[col]);
  });

  it('re-bases a 2025 commune formed from whole old communes, and not one that took part of a split one', async () => {
    for (const u of [EXACT, SPLIT]) {
      const key: KpiKey = { kpi: 'FBB_SUB_P100', bs: '2025', area: u.code, period: '2024-06' };
      const e = await one(`/v1/kpis?kpi=FBB_SUB_P100&area=${u.code}&period=2024-06&basis=rebased`);
      expect([u.code, figures(e)]).toEqual([
        u.code,
        figures(recomputeKeys(sent, units, [key])[0]!),
      ]);
      expect(e.rebasedFrom).toEqual(
        units.communeOrigin(u.code)!.from.map((area) => ({ areaSet: '2008', area })),
      );
    }
    const exact = await one(
      `/v1/kpis?kpi=FBB_SUB_P100&area=${EXACT.code}&period=2024-06&basis=rebased`,
    );
    expect(exact.denominator).toBe(5_000 * units.communeOrigin(EXACT.code)!.from.length);
    const split = await one(
      `/v1/kpis?kpi=FBB_SUB_P100&area=${SPLIT.code}&period=2024-06&basis=rebased`,
    );
    expect(split.value).toBeNull();
    expect(split.note).toContain(units.communeOrigin(SPLIT.code)!.split[0]!);
  });
});
