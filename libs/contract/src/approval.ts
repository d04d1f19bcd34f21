import { attainment, type Attainment } from '@app/catalogue';
import type { KpiEvent } from './kpi-event.js';

/**
 * Official figures (issue 27): a province's figures for a period move
 * `open` -> `submitted` -> `approved`, and back to `open` when returned or re-opened with a
 * reason. Approval locks: while a period is approved its events keep the approved figure and
 * carry a later computation as `pending`.
 */
export const APPROVAL_STATES = ['open', 'submitted', 'approved'] as const;
export type ApprovalState = (typeof APPROVAL_STATES)[number];

export const APPROVAL_ACTIONS = ['submit', 'approve', 'return', 'reopen'] as const;
export type ApprovalAction = (typeof APPROVAL_ACTIONS)[number];

/** The approval an event's figure is under: its province's period, as last moved. */
export interface Approval {
  readonly state: ApprovalState;
  /** The name of the token that moved it. */
  readonly by: string;
  readonly at: string;
  /** The period the move was made on, when it is a larger one this period is part of. */
  readonly period?: string;
  /** Why it was returned or re-opened. */
  readonly reason?: string;
}

/** What a KPI event says of a figure: everything that makes it change (contract v1). */
export interface KpiFigure {
  readonly value: number | null;
  readonly numerator: number | null;
  readonly denominator: number | null;
  readonly denominatorPeriod: string | null;
  readonly status: 'final' | 'provisional';
  readonly completeness: { readonly expected: string[]; readonly reported: string[] };
  /** Why `value` is null, or where the denominator came from. */
  readonly note?: string;
  /** Flow KPIs: January to the end of the period (beyond contract v1; additive). */
  readonly yearToDate?: number;
}

/** A computation held while the figure is approved: what re-approving would make official. */
export interface PendingFigure extends KpiFigure {
  readonly computedAt: string;
}

/** The official figure of a key that had none when its period was approved. */
export const NO_OFFICIAL_FIGURE: KpiFigure = {
  value: null,
  numerator: null,
  denominator: null,
  denominatorPeriod: null,
  status: 'provisional',
  completeness: { expected: [], reported: [] },
  note: 'no figure when the period was approved',
};

export const APPROVAL_ERROR = {
  /** The move does not start from the period's state (approve an open period, ...). */
  notAllowed: 'APPROVAL_NOT_ALLOWED',
  /** Returning and re-opening say why. */
  reasonRequired: 'APPROVAL_REASON_REQUIRED',
  /** The period was moved as part of a larger one: move that one. */
  partOfLarger: 'APPROVAL_PART_OF_LARGER_PERIOD',
  /** Periods it is built from were moved on their own: they would be moved out of step. */
  partsDiffer: 'APPROVAL_PARTS_DIFFER',
} as const;

const MOVES: Record<ApprovalAction, { from: ApprovalState; to: ApprovalState; reason: boolean }> = {
  submit: { from: 'open', to: 'submitted', reason: false },
  approve: { from: 'submitted', to: 'approved', reason: false },
  return: { from: 'submitted', to: 'open', reason: true },
  reopen: { from: 'approved', to: 'open', reason: true },
};

export type ApprovalMove =
  | { readonly ok: true; readonly to: ApprovalState }
  | {
      readonly ok: false;
      readonly code: (typeof APPROVAL_ERROR)[keyof typeof APPROVAL_ERROR];
      readonly message: string;
    };

/** Where `action` takes a period in state `from`, or why it cannot. */
export function approvalMove(
  from: ApprovalState,
  action: ApprovalAction,
  reason?: string,
): ApprovalMove {
  const m = MOVES[action];
  if (m.from !== from) {
    const how =
      from === 'open'
        ? 'submit it first'
        : from === 'submitted'
          ? 'approve or return it'
          : 're-open it first';
    return {
      ok: false,
      code: APPROVAL_ERROR.notAllowed,
      message: `cannot ${action} a period that is ${from} (${action} needs ${m.from}): ${how}`,
    };
  }
  if (m.reason && !reason?.trim())
    return {
      ok: false,
      code: APPROVAL_ERROR.reasonRequired,
      message: `${action} needs a reason: send {"reason": "..."}`,
    };
  return { ok: true, to: m.to };
}

/** The figure a reader of the event's `value` gets. */
export function eventFigure(e: KpiFigure): KpiFigure {
  return {
    value: e.value,
    numerator: e.numerator,
    denominator: e.denominator,
    denominatorPeriod: e.denominatorPeriod,
    status: e.status,
    completeness: e.completeness,
    ...(e.note !== undefined ? { note: e.note } : {}),
    ...(e.yearToDate !== undefined ? { yearToDate: e.yearToDate } : {}),
  };
}

/** The hub's latest computation of an event's key: its pending figure, else its own. */
export const computedFigure = (e: KpiEvent): KpiFigure => eventFigure(e.pending ?? e);

export function sameFigure(a: KpiFigure, b: KpiFigure): boolean {
  return (
    a.value === b.value &&
    a.numerator === b.numerator &&
    a.denominator === b.denominator &&
    a.denominatorPeriod === b.denominatorPeriod &&
    a.status === b.status &&
    a.note === b.note &&
    a.yearToDate === b.yearToDate &&
    a.completeness.expected.join() === b.completeness.expected.join() &&
    a.completeness.reported.join() === b.completeness.reported.join()
  );
}

/**
 * The event of a key under an approval: with `approved` and the official figure, the event's
 * figure is the official one and the latest computation, where it differs, is `pending`;
 * otherwise the figure is the latest computation. Fields keep the serialiser's order: all a
 * group's load reads (`pending` too) before `inputs`, and `computedAt` (a string) last of
 * those, where `kpiEventHead` closes the text. `target` is restated for the figure.
 */
export function withApproval(
  e: KpiEvent,
  approval: Approval | undefined,
  official?: KpiFigure,
): KpiEvent {
  const computed = computedFigure(e);
  const figure = approval?.state === 'approved' && official ? official : computed;
  const pending =
    figure !== computed && !sameFigure(figure, computed)
      ? { ...computed, computedAt: e.pending?.computedAt ?? e.computedAt }
      : undefined;
  const {
    value: _v,
    numerator: _n,
    denominator: _d,
    denominatorPeriod: _p,
    status: _s,
    completeness: _c,
    note: _note,
    yearToDate: _y,
    approval: _a,
    pending: _pending,
    inputs,
    target,
    revision,
    computedAt,
    unit,
    ...head
  } = e;
  const { note, yearToDate, ...numbers } = figure;
  return {
    ...head,
    value: numbers.value,
    unit,
    numerator: numbers.numerator,
    denominator: numbers.denominator,
    denominatorPeriod: numbers.denominatorPeriod,
    status: numbers.status,
    completeness: numbers.completeness,
    ...(approval ? { approval } : {}),
    ...(pending ? { pending } : {}),
    revision,
    computedAt,
    inputs,
    ...(note !== undefined ? { note } : {}),
    ...(yearToDate !== undefined ? { yearToDate } : {}),
    ...(target ? { target: restate(target, e.kpi, figure) } : {}),
  };
}

/** A target's attainment for another figure of the same key. */
function restate(a: Attainment, kpi: string, f: KpiFigure): Attainment {
  return attainment(
    {
      planId: a.planId,
      issuingBody: a.issuingBody,
      documentNumber: a.documentNumber,
      bs: '2008',
      area: '',
      kpi,
      targetPeriod: a.targetPeriod,
      targetValue: a.target,
      comparison: a.comparison,
      note: null,
    },
    f.value,
    f.yearToDate ?? null,
  );
}
