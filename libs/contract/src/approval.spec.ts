import type { PlanTarget } from '@app/catalogue';
import {
  type Approval,
  approvalMove,
  computedFigure,
  type KpiFigure,
  NO_OFFICIAL_FIGURE,
  withApproval,
} from './approval.js';
import { KPI_EVENT_INPUTS_AT, type KpiEvent, kpiEventHead, toKpiEvent } from './kpi-event.js';

const target: PlanTarget = {
  planId: 'p',
  issuingBody: 'UBND tỉnh Điện Biên',
  documentNumber: '1/KH',
  bs: '2008',
  area: '11',
  kpi: 'MBB_SUB_P100',
  targetPeriod: '2025',
  targetValue: 80,
  comparison: 'at_least',
  note: null,
};
const computed = (numerator: number, revision: number): KpiEvent =>
  toKpiEvent(
    {
      kpi: 'MBB_SUB_P100',
      area: '11',
      period: '2024-Q1',
      bs: '2008',
      year: 2024,
      areaName: 'Điện Biên',
      unit: 'per_100_inhabitants',
      value: (numerator / 650_000) * 100,
      numerator,
      denominator: 650_000,
      denominatorPeriod: '2024',
      status: 'provisional',
      completeness: { expected: ['viettel', 'vnpt'], reported: ['viettel', 'vnpt'] },
      inputs: [{ source: 'viettel', feedId: 'vt-03', measure: 'mbb_subscriptions' }],
      note: null,
      yearToDate: null,
      revision,
      eventId: `e${revision}`,
      computedAt: `2024-04-0${revision}T00:00:00.000Z`,
    },
    target,
  );
const approved: Approval = { state: 'approved', by: 'dien-bien-stic', at: '2024-04-10T00:00:00Z' };

describe('approval moves', () => {
  it.each([
    ['open', 'submit', 'submitted'],
    ['submitted', 'approve', 'approved'],
    ['submitted', 'return', 'open'],
    ['approved', 'reopen', 'open'],
  ] as const)('from %s, %s leads to %s', (from, action, to) => {
    expect(approvalMove(from, action, 'a reason')).toEqual({ ok: true, to });
  });

  it.each([
    ['open', 'approve', 'submit it first'],
    ['approved', 'approve', 're-open it first'],
    ['approved', 'submit', 're-open it first'],
    ['open', 'return', 'submit it first'],
    ['submitted', 'reopen', 'approve or return it'],
  ] as const)('refuses %s -> %s, saying what to do (%s)', (from, action, next) => {
    const m = approvalMove(from, action, 'a reason');
    expect(m).toMatchObject({ ok: false, code: 'APPROVAL_NOT_ALLOWED' });
    expect(!m.ok && m.message).toContain(next);
  });

  it('asks a reason to return or re-open', () => {
    expect(approvalMove('submitted', 'return', '  ')).toMatchObject({
      ok: false,
      code: 'APPROVAL_REASON_REQUIRED',
    });
    expect(approvalMove('approved', 'reopen')).toMatchObject({ ok: false });
  });
});

describe('an event under an approval', () => {
  const first = computed(404_000, 1);
  const official: KpiFigure = computedFigure(first);

  it('keeps the official figure and holds a later computation as pending', () => {
    const e = withApproval(computed(412_000, 2), approved, official);
    expect(e).toMatchObject({
      value: first.value,
      numerator: 404_000,
      approval: approved,
      pending: {
        numerator: 412_000,
        value: (412_000 / 650_000) * 100,
        computedAt: '2024-04-02T00:00:00.000Z',
      },
    });
    // the target's attainment is the official figure's
    expect(e.target!.actual).toBe(first.value);
    expect(computedFigure(e).numerator).toBe(412_000);
  });

  it('has no pending figure when the computation is the official one', () => {
    expect(withApproval(computed(404_000, 2), approved, official).pending).toBeUndefined();
  });

  it('shows the latest computation again once re-opened', () => {
    const held = withApproval(computed(412_000, 2), approved, official);
    const open = withApproval(held, { state: 'open', by: 'x', at: 'y', reason: 'fix' });
    expect(open).toMatchObject({ numerator: 412_000, approval: { state: 'open', reason: 'fix' } });
    expect(open.pending).toBeUndefined();
    expect(open.target!.actual).toBe(open.value);
  });

  it('is null when the key had no figure at approval', () => {
    const e = withApproval(computed(1, 1), approved, NO_OFFICIAL_FIGURE);
    expect([e.value, e.note, e.pending?.numerator]).toEqual([
      null,
      'no figure when the period was approved',
      1,
    ]);
  });

  it('puts everything a group load reads before inputs', () => {
    const text = JSON.stringify(withApproval(computed(412_000, 2), approved, official));
    const head = JSON.parse(kpiEventHead(text.split(KPI_EVENT_INPUTS_AT)[0]!)) as KpiEvent;
    expect(head.pending!.numerator).toBe(412_000);
    expect(head.approval).toEqual(approved);
  });
});
