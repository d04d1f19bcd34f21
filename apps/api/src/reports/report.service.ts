import {
  type AdminUnits,
  type BoundarySet,
  boundarySetOf,
  type Lang,
  mustParsePeriod,
  shiftPeriod,
} from '@app/catalogue';
import type { KpiEvent } from '@app/contract';
import { ApprovalStore, approvalOf, DATA_SOURCE } from '@app/database';
import { ADMIN_UNITS } from '@app/service';
import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { KpiReadService } from '../kpis/kpi-read.service.js';
import { buildReport, comparisonPeriods, type ProvinceReport } from './report.model.js';

/** Periods of the same kind a report's charts show, up to its own. */
const SERIES_LENGTH = 8;

/**
 * Gathers a province's report from the query API's own reads (so its figures are the API's):
 * the period, the one before and the same one a year before, the series, the units below and
 * the approval. A 2025 province's periods before the reform are its re-based history.
 */
@Injectable()
export class ReportService {
  private readonly approvals = new ApprovalStore();

  constructor(
    private readonly kpis: KpiReadService,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(ADMIN_UNITS) private readonly units: AdminUnits,
  ) {}

  /** The province a report names, or a 4xx saying what to ask instead. */
  unit(area: string, period: string, areaSet?: BoundarySet): { bs: BoundarySet; name: string } {
    const bs = areaSet ?? boundarySetOf(mustParsePeriod(period));
    const u = this.units.get(bs, area);
    if (!u)
      throw new NotFoundException(
        `${area} is not a unit of the ${bs} lists (GET /v1/areas?areaSet=${bs}&level=province)`,
      );
    if (u.level !== 'province')
      throw new BadRequestException(
        `reports are per province: ${area} is a ${u.level} of ${u.province}`,
      );
    if (bs === '2008' && boundarySetOf(mustParsePeriod(period)) === '2025')
      throw new BadRequestException(
        `${u.name} (${area}) of the 2008 lists has no figures for ${period}, after the 2025-07-01 reform: ask for the 2025 province it went into (${this.units.groupOf('2008', area)})`,
      );
    return { bs, name: u.name };
  }

  async report(
    area: string,
    period: string,
    lang: Lang,
    areaSet?: BoundarySet,
  ): Promise<ProvinceReport> {
    const { bs, name } = this.unit(area, period, areaSet);
    const p = mustParsePeriod(period);
    const { previous, yearBefore } = comparisonPeriods(period);
    const at = (code: string, areas?: readonly string[]) => this.at(bs, area, code, areas);
    const seriesPeriods = new Set(
      Array.from({ length: SERIES_LENGTH }, (_, i) => shiftPeriod(p, i - SERIES_LENGTH + 1)),
    );
    const level = bs === '2008' ? 'district' : 'commune';
    const below = this.units
      .all(bs)
      .filter((u) => u.province === area && u.level === level)
      .sort((a, b) => a.code.localeCompare(b.code));
    const [current, prev, before, series, subEvents, approval] = await Promise.all([
      at(period),
      at(previous),
      at(yearBefore),
      Promise.all([...seriesPeriods].map((c) => at(c))).then((x) => x.flat()),
      at(
        period,
        below.map((u) => u.code),
      ),
      this.approvals.periods(this.ds, bs, area, [period]),
    ]);
    return buildReport({
      areaSet: bs,
      area,
      areaName: name,
      period,
      lang,
      generatedAt: new Date().toISOString(),
      current,
      previous: prev,
      yearBefore: before,
      series,
      subUnits: { level, units: below, events: subEvents },
      ...(approval[0] ? { approval: approvalOf(approval[0]) } : {}),
    });
  }

  /**
   * The events of the province (or of `areas` below it) for one period: as published in the
   * period's own lists, or re-based for a 2025 unit before the reform; none for others.
   */
  private async at(
    bs: BoundarySet,
    area: string,
    period: string,
    areas?: readonly string[],
  ): Promise<KpiEvent[]> {
    const own = boundarySetOf(mustParsePeriod(period));
    if (own !== bs && bs !== '2025') return [];
    const rebased = own !== bs;
    if (areas && areas.length === 0) return [];
    return this.kpis.find({
      period,
      ...(rebased ? { rebased } : { areaSet: bs }),
      ...(areas
        ? { scope: { bs: areas.map(() => (rebased ? '2025' : bs)), area: areas } }
        : { area }),
    });
  }
}
