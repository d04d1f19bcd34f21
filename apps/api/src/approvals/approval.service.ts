import {
  type AdminUnits,
  boundarySetOf,
  mustParsePeriod,
  type Period,
  subPeriods,
} from '@app/catalogue';
import {
  type Approval,
  type ApprovalAction,
  approvalMove,
  APPROVAL_ERROR,
  computedFigure,
  type KpiEvent,
  type KpiFigure,
  withApproval,
} from '@app/contract';
import {
  AccessStore,
  type ApprovalRow,
  ApprovalStore,
  approvalOf,
  type CopyClient,
  DATA_SOURCE,
  KpiStore,
  type OfficialRow,
  OutboxStore,
  type Principal,
  SliceStore,
} from '@app/database';
import { ADMIN_UNITS } from '@app/service';
import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  Inject,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { DataSource, QueryRunner } from 'typeorm';

/** Units whose keys one round of a move reads and writes (ApprovalService.republish). */
const UNITS_PER_ROUND = 100;

export interface MoveResult {
  readonly areaSet: '2008' | '2025';
  readonly area: string;
  readonly areaName: string;
  readonly period: string;
  /** The period and those it is built from, all moved together. */
  readonly periods: string[];
  readonly approval: Approval;
  /** KPI events the move published (one per key of the province's units in those periods). */
  readonly events: number;
}

/**
 * Moves a province's period through review and approval (issue 27), in one transaction under
 * the aggregation group's row lock, the one the aggregator publishes under: the approval rows
 * of the period and the periods it is built from; on approval, each key's figure as it stands
 * becomes official (`kpi_official`), on re-opening or returning none is; every key of the
 * province's units in those periods gets its next revision saying so (change log and outbox);
 * the group's approval sequence moves, so the aggregator reloads its revisions; the admin log
 * records who did it. A key's later computations then say the approval they are under.
 */
@Injectable()
export class ApprovalService {
  private readonly approvals = new ApprovalStore();
  private readonly slices = new SliceStore();
  private readonly outbox = new OutboxStore();

  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(ADMIN_UNITS) private readonly units: AdminUnits,
    private readonly kpis: KpiStore,
    private readonly access: AccessStore,
  ) {}

  /** The unit and boundary set a (province, period) names, or a 4xx saying what is wrong. */
  province(area: string, period: string): { bs: '2008' | '2025'; name: string; grp: string } {
    const bs = boundarySetOf(mustParsePeriod(period));
    const unit = this.units.get(bs, area);
    if (!unit)
      throw new NotFoundException(
        `${area} is not a province of the ${bs} lists, which name the units of ${period} (GET /v1/areas?areaSet=${bs}&level=province)`,
      );
    if (unit.level !== 'province')
      throw new BadRequestException(
        `${area} is a ${unit.level}: approve its province's figures (${unit.province})`,
      );
    return { bs, name: unit.name, grp: this.units.groupOf(bs, area)! };
  }

  /** 403 unless the principal may approve the group's provinces. */
  mayApprove(principal: Principal | undefined, grp: string, area: string): void {
    const provinces = principal?.provinces;
    if (provinces && !provinces.includes(grp))
      throw new ForbiddenException(
        `token "${principal.name}" approves provinces ${provinces.join(', ')}, not ${area} (in ${grp} since 2025)`,
      );
  }

  async move(
    principal: Principal,
    area: string,
    period: string,
    action: ApprovalAction,
    reason: string | undefined,
  ): Promise<MoveResult> {
    const { bs, name, grp } = this.province(area, period);
    this.mayApprove(principal, grp, area);
    const periods = [period, ...partsOf(mustParsePeriod(period), bs)];
    const areas = this.units
      .all(bs)
      .filter((u) => u.province === area)
      .map((u) => u.code);
    const q = this.ds.createQueryRunner();
    const client = (await q.connect()) as CopyClient;
    try {
      await q.startTransaction('READ COMMITTED');
      await this.slices.lockGroups(q, [grp]);
      const rows = new Map(
        (await this.approvals.periods(q, bs, area, periods, true)).map((r) => [r.period, r]),
      );
      const own = rows.get(period);
      if (own && own.via !== period && own.state !== 'open')
        throw new ConflictException({
          code: APPROVAL_ERROR.partOfLarger,
          message: `${period} of ${area} is ${own.state} as part of ${own.via}: move ${own.via}`,
        });
      const from = own?.state ?? 'open';
      // Parts move with the period only when they stand where it does, moved with it: a
      // quarter approved on its own is not taken along by its year.
      const astray = periods.slice(1).filter((p) => {
        const r = rows.get(p);
        return (
          (r?.state ?? 'open') !== from ||
          (r !== undefined && r.state !== 'open' && r.via !== period)
        );
      });
      if (astray.length > 0) {
        const where = (p: string): string => {
          const r = rows.get(p);
          return `${p} is ${r?.state ?? 'open'}${r && r.via !== p ? ` with ${r.via}` : ''}`;
        };
        throw new ConflictException({
          code: APPROVAL_ERROR.partsDiffer,
          message: `${astray.map(where).join(', ')}, while ${period} of ${area} is ${from}: move those periods back to ${from} first`,
        });
      }
      const m = approvalMove(from, action, reason);
      if (!m.ok)
        throw m.code === APPROVAL_ERROR.reasonRequired
          ? new BadRequestException({ code: m.code, message: m.message })
          : new ConflictException({ code: m.code, message: m.message });
      const at = new Date().toISOString();
      const moved: ApprovalRow[] = periods.map((p) => ({
        bs,
        area,
        period: p,
        grp,
        state: m.to,
        via: period,
        by: principal.name,
        at,
        reason: reason?.trim() || null,
      }));
      await this.approvals.save(q, moved);
      const byPeriod = new Map(moved.map((r) => [r.period, approvalOf(r)]));
      if (m.to !== 'approved') await this.approvals.clearOfficial(q, bs, areas, periods);
      const events = await this.republish(q, client, { bs, grp, areas, periods }, (e) => {
        const figure = m.to === 'approved' ? computedFigure(e) : undefined;
        return { event: withApproval(e, byPeriod.get(e.period), figure), official: figure };
      });
      await this.access.recordAction(q, {
        actor: principal.name,
        action: `approval.${action}`,
        target: `approval:${bs}:${area}:${period}`,
        before: { state: own?.state ?? 'open', ...(own ? { by: own.by, at: own.at } : {}) },
        after: { state: m.to, periods, events, ...(reason ? { reason } : {}) },
      });
      await this.approvals.bumpGroup(q, grp);
      await q.commitTransaction();
      return {
        areaSet: bs,
        area,
        areaName: name,
        period,
        periods,
        approval: byPeriod.get(period)!,
        events,
      };
    } catch (e) {
      if (q.isTransactionActive) await q.rollbackTransaction().catch(() => undefined);
      throw e;
    } finally {
      await q.release();
    }
  }

  /**
   * Gives every key of these units in these periods its next revision, the event `next`
   * makes of its current one, and records the figures it makes official; returns how many.
   * In rounds of units, each read and then written with a COPY of its own (the COPY holds
   * the connection): a large province's year is over a hundred thousand keys, never all in
   * memory at once.
   */
  private async republish(
    q: QueryRunner,
    client: CopyClient,
    at: { bs: '2008' | '2025'; grp: string; areas: readonly string[]; periods: readonly string[] },
    next: (e: KpiEvent) => { event: KpiEvent; official?: KpiFigure },
  ): Promise<number> {
    let count = 0;
    for (let i = 0; i < at.areas.length; i += UNITS_PER_ROUND) {
      const current = await this.kpis.currentEvents(
        q,
        'v.bs = $1 AND v.area = ANY($2::text[]) AND v.period = ANY($3::text[])',
        [at.bs, at.areas.slice(i, i + UNITS_PER_ROUND), at.periods],
        Number.MAX_SAFE_INTEGER,
      );
      if (current.length === 0) continue;
      const official: OfficialRow[] = [];
      const writer = await this.kpis.openChangeLog(q, client);
      for (const text of current) {
        const e = JSON.parse(text) as KpiEvent;
        const { event, official: figure } = next(e);
        const revision = e.revision + 1;
        if (figure)
          official.push({
            bs: at.bs,
            area: e.area,
            period: e.period,
            kpi: e.kpi,
            revision,
            figure,
          });
        const full = writer.add(
          e.kpi,
          e.area,
          e.period,
          revision,
          JSON.stringify({ ...event, eventId: randomUUID(), revision }),
          false,
          event.approval?.state === 'approved',
        );
        if (full) await full;
      }
      await writer.end();
      if (official.length > 0) await this.approvals.setOfficial(q, at.grp, official);
      count += current.length;
    }
    if (count > 0) await this.outbox.notify(q);
    return count;
  }
}

/** The periods a period is built from, within one boundary set (2025's year: its H2 on). */
const partsOf = (p: Period, bs: '2008' | '2025'): string[] =>
  subPeriods(p)
    .filter((c) => boundarySetOf(c) === bs)
    .map((c) => c.code);
