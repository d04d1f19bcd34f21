import type { PlanTarget } from '@app/catalogue';
import {
  KPI_EVENT_INPUTS_AT,
  type KpiRevision,
  kpiEventHead,
  serializeKpiEvent,
  toKpiEvent,
} from './kpi-event.js';

const input = { source: 'viettel', feedId: 'vt-2024-06', measure: 'mbb_subscriptions' };
const shared = { expected: ['gso', 'viettel'], reported: ['viettel'] };
const base: KpiRevision = {
  kpi: 'MBB_SUB_P100',
  area: '37',
  period: '2024-Q2',
  bs: '2008',
  year: 2024,
  areaName: 'Ninh Bình',
  unit: 'per_100_inhabitants',
  value: 68.69,
  numerator: 694_250,
  denominator: 1_010_700,
  denominatorPeriod: '2024',
  status: 'provisional',
  completeness: shared,
  inputs: [input, { ...input, feedId: 'gso-2024', measure: 'population', qualifier: '>' }],
  note: null,
  yearToDate: null,
  revision: 3,
  eventId: '0b6f0c8e-4f0e-4a53-9a0e-7f1b2f0d9d11',
  computedAt: '2024-07-05T08:00:02.114Z',
};
const target: PlanTarget = {
  planId: 'p',
  issuingBody: 'UBND tỉnh "Ninh Bình"',
  documentNumber: '12/KH',
  bs: '2008',
  area: '37',
  kpi: 'MBB_SUB_P100',
  targetPeriod: '2025',
  targetValue: 80,
  comparison: 'at_least',
  note: null,
};

describe('toKpiEvent (contract v1.1)', () => {
  it('names the unit with its boundary set', () => {
    expect(toKpiEvent(base)).toMatchObject({ area: '37', areaSet: '2008' });
    expect(toKpiEvent(base)).not.toHaveProperty('basis');
  });

  it('marks re-based history and lists the old units it is computed over', () => {
    const e = toKpiEvent({ ...base, bs: '2025', rebasedFrom: ['35', '36', '37'] });
    expect(e).toMatchObject({
      area: '37',
      areaSet: '2025',
      basis: 'rebased-2025',
      rebasedFrom: [
        { areaSet: '2008', area: '35' },
        { areaSet: '2008', area: '36' },
        { areaSet: '2008', area: '37' },
      ],
    });
  });
});

describe('serializeKpiEvent', () => {
  const variants: [string, KpiRevision, PlanTarget | undefined][] = [
    ['a full event', base, undefined],
    ['the same again (cached fragments)', { ...base, revision: 4 }, undefined],
    [
      'a null value with a note',
      { ...base, value: null, denominator: null, note: 'no "population" for 37\n' },
      undefined,
    ],
    [
      'no inputs and no denominator',
      { ...base, inputs: [], denominator: null, denominatorPeriod: null },
      undefined,
    ],
    [
      'a flow with its year to date',
      { ...base, kpi: 'TELECOM_REVENUE', yearToDate: 1.5e11, value: 2.7e11 },
      undefined,
    ],
    ['odd numbers', { ...base, value: 1 / 3, numerator: 0.1 + 0.2, denominator: 1e21 }, undefined],
    ['a target', base, target],
    ['names that need escaping', { ...base, areaName: 'Xã "A"\\B\t', area: '00001' }, undefined],
    [
      're-based history',
      { ...base, bs: '2025', rebasedFrom: ['35', '36', '37'], period: '2024' },
      undefined,
    ],
  ];
  it.each(variants)(
    'writes exactly what JSON.stringify(toKpiEvent(...)) writes: %s',
    (_, row, t) => {
      expect(serializeKpiEvent(row, t)).toBe(JSON.stringify(toKpiEvent(row, t)));
    },
  );

  it.each(variants)(
    'writes every field a group load reads before its inputs, as the database cuts it: %s',
    (_, row, t) => {
      const payload = serializeKpiEvent(row, t);
      const head = JSON.parse(kpiEventHead(payload.split(KPI_EVENT_INPUTS_AT)[0]!)) as object;
      const { kpi, area, areaSet, period, numerator, denominator, status, completeness, revision } =
        toKpiEvent(row, t);
      expect(head).toMatchObject({
        kpi,
        area,
        areaSet,
        period,
        numerator,
        denominator,
        status,
        completeness,
        revision,
      });
    },
  );
});
