/**
 * The bench's backfill: one year of monthly commune-level feeds (2008-era commune list) from
 * 4 operators and the statistics office: 5 counts, village coverage and BTS site sets per
 * commune; population, households and villages per commune, for the first N provinces
 * (all 63: 10,051 communes, 4,959 feeds, about 3.4 million observations) or the ones named. The same data for
 * the same arguments: a fixed seed, feed ids ending in `-<run>`.
 */
const OPERATORS = ['viettel', 'vnpt', 'mobifone', 'vietnamobile'];
const COUNTS = [
  'mobile_subscriptions',
  'mbb_subscriptions',
  'smartphone_subscriptions',
  'fbb_subscriptions',
  'ftth_household_subscriptions',
];
/** A province's communes in feeds of at most 140 communes (980 observations). */
const PER_FEED = 140;

/** `units`: libs/catalogue's AdminUnits; `which`: how many provinces, or their codes. */
export function backfill(units, which, run) {
  const all = units.all('2008').filter((u) => u.level === 'province');
  const provinces = Array.isArray(which)
    ? all.filter((p) => which.includes(p.code))
    : all.slice(0, which);
  const communesOf = new Map(provinces.map((p) => [p.code, []]));
  for (const u of units.all('2008'))
    if (u.level === 'commune' && communesOf.has(u.province))
      communesOf.get(u.province).push(u.code);
  const communeCount = [...communesOf.values()].reduce((n, c) => n + c.length, 0);
  let seed = 42;
  const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;

  function buildFeeds() {
    const feeds = [];
    for (const p of provinces)
      feeds.push({
        schema: 'lgsp.feed.v1',
        feedId: `gso-${p.code}-2024-${run}`,
        source: 'gso',
        sentAt: '2024-01-20T00:00:00Z',
        period: '2024',
        observations: communesOf.get(p.code).flatMap((c) => [
          { area: c, measure: 'population', value: 2_000 + Math.floor(rand() * 20_000) },
          { area: c, measure: 'households', value: 500 + Math.floor(rand() * 5_000) },
          { area: c, measure: 'villages_total', value: 3 },
        ]),
      });
    for (let m = 1; m <= 12; m++) {
      const period = `2024-${String(m).padStart(2, '0')}`;
      for (const op of OPERATORS)
        for (const p of provinces) {
          const communes = communesOf.get(p.code);
          for (let i = 0, part = 0; i < communes.length; i += PER_FEED, part++)
            feeds.push({
              schema: 'lgsp.feed.v1',
              feedId: `${op}-${p.code}-${period}-${part}-${run}`,
              source: op,
              sentAt: `${period}-28T00:00:00Z`,
              period,
              observations: communes.slice(i, i + PER_FEED).flatMap((c) => [
                ...COUNTS.map((measure) => ({
                  area: c,
                  measure,
                  value: Math.floor(rand() * 3_000),
                })),
                {
                  area: c,
                  measure: 'villages_mbb_covered',
                  items: [1, 2, 3].filter(() => rand() < 0.7).map((v) => `${c}-${v}`),
                },
                {
                  area: c,
                  measure: 'bts_sites',
                  items: [1, 2].filter(() => rand() < 0.6).map((s) => `S${c}-${s}`),
                },
              ]),
            });
        }
    }
    return feeds;
  }

  return { provinces, communesOf, communeCount, buildFeeds };
}
