import { AdminUnits, SourceRegistry } from '@app/catalogue';
import { GroupFlush } from './evaluate.js';
import type { SliceInput, SliceObservation } from '@app/contract';
import { GroupState } from './group-state.js';
import { GroupLayouts } from './layout.js';
import { SLOTS } from './slots.js';

const units = AdminUnits.load('data/admin-units');
const layouts = new GroupLayouts(units);
// Đà Nẵng (2025) = Đà Nẵng (48) + Quảng Nam (49) of 2008.
const layout = layouts.get('48');
const n = layout.u2008.size;
// Observation blocks hold the reportable units: not the virtual nodes of re-based history.
const r = layout.u2008.reportable;
const communes = units
  .all('2008')
  .filter((u) => u.level === 'commune' && u.province === '49')
  .slice(0, 3)
  .map((u) => u.code);

type Obs = Omit<SliceObservation, 'measure'>;
const slice = (measure: string, period: string, obs: readonly Obs[]): SliceInput => ({
  source: 'viettel',
  feedId: `viettel-${measure}-${period}`,
  sentAt: '2024-12-01T00:00:00Z',
  period,
  status: 'actual',
  exchangeId: `x-${measure}-${period}`,
  observations: obs.map((o) => ({ measure, ...o })),
});
/** A slice with the same figure for each of the three communes. */
const forCommunes = (measure: string, period: string, figure: Omit<Obs, 'area'>): SliceInput =>
  slice(
    measure,
    period,
    communes.map((area) => ({ area, ...figure })),
  );

describe('GroupState.heldBytes, the memory a group holds', () => {
  it('counts a monthly count block (value, feed, qualifier per unit and month), the presence mask, the dirty marks and the cells won', () => {
    const st = new GroupState(layout);
    st.apply(forCommunes('mobile_subscriptions', '2024-03', { value: 10 }), true);
    expect(r).toBeLessThan(n);
    expect(st.heldBytes()).toEqual({
      observations: r * 12 * (8 + 4 + 1) + n * 4,
      itemSets: (1 << 16) * 4,
      published: 0,
      dirty: n * SLOTS * 4,
      pending: communes.length * 4,
    });
  });

  it('counts an item-set block with its set offsets instead of values, and the pool as allocated', () => {
    const st = new GroupState(layout);
    st.apply(forCommunes('bts_sites', '2024-03', { items: ['S1', 'S2'] }), false);
    const held = st.heldBytes();
    expect(held.observations).toBe(r * 12 * (4 + 1 + 4) + n * 4);
    expect(held.itemSets).toBe((1 << 16) * 4);
    expect(held.dirty + held.pending + held.published).toBe(0);
  });

  it('after a flush, holds one published block per KPI written (25 bytes per unit and period) and no marks', () => {
    const st = new GroupState(layout);
    st.apply(forCommunes('population', '2024', { value: 1_000 }), true);
    st.apply(forCommunes('mobile_subscriptions', '2024-03', { value: 10 }), true);
    const flush = new GroupFlush(st, { registry: new SourceRegistry() });
    const kpis = new Set<string>();
    for (const chunk of flush.chunks()) for (const c of chunk) kpis.add(c.kpi);
    flush.commit();
    expect([...kpis].sort()).toEqual(['MOB_SUB_P100']);
    const held = st.heldBytes();
    expect(held.published).toBe(kpis.size * n * SLOTS * (8 + 8 + 4 + 1 + 4));
    expect(held.dirty).toBe(0);
    expect(held.pending).toBe(0);
  });

  it('adds into a running total, so a cache can sum its groups', () => {
    const a = new GroupState(layout);
    const b = new GroupState(layout);
    a.apply(slice('mobile_subscriptions', '2024-03', [{ area: communes[0]!, value: 1 }]), false);
    b.apply(slice('mobile_subscriptions', '2024-04', [{ area: communes[1]!, value: 1 }]), false);
    const total = b.heldBytes(a.heldBytes());
    expect(total.observations).toBe(2 * (r * 12 * 13 + n * 4));
    expect(total.itemSets).toBe(2 * (1 << 16) * 4);
  });
});
