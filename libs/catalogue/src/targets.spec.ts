import { AdminUnits } from './admin-units.js';
import { applicableTarget, attainment, normalisePlan } from './targets.js';

const units = AdminUnits.load('data/admin-units');
const ninhBinh = {
  planId: 'ninh-binh-2023-2025',
  issuingBody: 'UBND tỉnh Ninh Bình',
  documentNumber: 'KH phát triển hạ tầng số 2023-2025',
  issuedOn: '2023-09-01',
  area: '37',
  targets: [
    { kpi: 'MBB_SUB_P100', period: '2025', value: 80, unit: 'percent' as const },
    { kpi: 'HH_FTTH_RATE', period: '2025', value: 80, unit: 'percent' as const },
  ],
};

describe('normalisePlan', () => {
  it('reads "80 %" of a per-100 KPI as 80 per 100 inhabitants, with a warning', () => {
    const r = normalisePlan(ninhBinh, units);
    expect(r.errors).toEqual([]);
    expect(r.targets[0]).toMatchObject({ kpi: 'MBB_SUB_P100', targetValue: 80, bs: '2008' });
    expect(r.warnings.join('\n')).toMatch(/"80 %" read as 80 per 100 inhabitants/);
  });

  it('keeps a target of old Ninh Bình attached to the 2008 unit, saying so', () => {
    const r = normalisePlan(ninhBinh, units);
    expect(r.targets.every((t) => t.bs === '2008' && t.area === '37')).toBe(true);
    expect(r.warnings.join('\n')).toMatch(
      /targets for 2025 stay attached to it and apply to its figures up to 2025-06-30/,
    );
  });

  it('refuses a plan with an unknown KPI or area, loading none of it', () => {
    const r = normalisePlan(
      { ...ninhBinh, area: '99', targets: [{ kpi: 'NOPE', period: '2025', value: 1 }] },
      units,
    );
    expect(r.targets).toEqual([]);
    expect(r.errors).toHaveLength(2);
  });
});

describe('applicableTarget and attainment', () => {
  const { targets } = normalisePlan(ninhBinh, units);

  it('applies the 2025 target to 2023 figures of the same unit, not to the new Ninh Bình', () => {
    expect(
      applicableTarget(targets, { kpi: 'MBB_SUB_P100', bs: '2008', area: '37', period: '2023-H1' })
        ?.targetValue,
    ).toBe(80);
    expect(
      applicableTarget(targets, { kpi: 'MBB_SUB_P100', bs: '2025', area: '37', period: '2025' }),
    ).toBeUndefined();
    expect(
      applicableTarget(targets, { kpi: 'MBB_SUB_P100', bs: '2008', area: '37', period: '2026' }),
    ).toBeUndefined();
  });

  it('measures a level against the target: 68.69 of at least 80 is 85.9 %, not met', () => {
    const a = attainment(targets[0]!, 68.69);
    expect(a.basis).toBe('level');
    expect(a.ratio).toBeCloseTo(0.8586, 4);
    expect(a.met).toBe(false);
  });

  it('measures a flow year to date against an annual target', () => {
    // April's revenue is 100; January to April, 400 (the engine's yearToDate).
    const target = { ...targets[0]!, kpi: 'TELECOM_REVENUE', targetValue: 1200, area: '58' };
    expect(attainment(target, 100, 400)).toMatchObject({
      basis: 'year_to_date',
      actual: 400,
      met: false,
    });
    expect(attainment(target, 100, 400).ratio).toBeCloseTo(1 / 3, 10);
  });
});
