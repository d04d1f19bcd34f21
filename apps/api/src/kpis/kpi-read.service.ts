import { Inject, Injectable } from '@nestjs/common';
import { applicableTarget, boundarySetOf, mustParsePeriod } from '@app/catalogue';
import { type KpiEvent, withTarget } from '@app/contract';
import { DATA_SOURCE, KpiStore, TargetStore } from '@app/database';
import type { DataSource } from 'typeorm';

export const KPI_LIMIT = 10_000;

export interface KpiFilter {
  readonly area?: string;
  /** The boundary set of `area` (of every key, without an area). */
  readonly areaSet?: '2008' | '2025';
  /** Re-based history (view `kpi_rebased_value`) instead of the published figures. */
  readonly rebased?: boolean;
  readonly period?: string;
  readonly kpi?: string;
  /** Only areas of this level (by the length of their code: 2, 3 or 5 digits). */
  readonly level?: 'province' | 'district' | 'commune';
  /** Only keys whose figure is an approved one (issue 27). */
  readonly official?: boolean;
  readonly fromYear?: number;
  readonly toYear?: number;
  /** Only keys after this one, in the order of the answer (area, period, kpi): a page's cursor. */
  readonly after?: KpiKey;
  /** Only these (boundary set, area) pairs: a reader limited to some provinces. */
  readonly scope?: { readonly bs: readonly string[]; readonly area: readonly string[] };
}

export interface KpiKey {
  readonly area: string;
  readonly period: string;
  readonly kpi: string;
}

/** A page's `next`: the last key of the page, as `area|period|kpi`. */
export const kpiCursor = (e: KpiKey): string => `${e.area}|${e.period}|${e.kpi}`;

/** The key a cursor names; undefined for text that is not one. */
export function parseKpiCursor(text: string): KpiKey | undefined {
  const [area, period, kpi, ...rest] = text.split('|');
  if (rest.length || !area || !period || !kpi || !/^\d{2,5}$/.test(area)) return undefined;
  if (!/^\d{4}(-[HQ0-9][0-9]?)?$/.test(period) || !/^[A-Z0-9_]{1,32}$/.test(kpi)) return undefined;
  return { area, period, kpi };
}

/**
 * Reads KPIs as the latest event per key says them (the change-log row `kpi_value` points
 * at), with the plan target that applies now (targets are loaded any time; the API always
 * shows the current plans).
 */
@Injectable()
export class KpiReadService {
  constructor(
    private readonly kpis: KpiStore,
    private readonly targets: TargetStore,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
  ) {}

  async find(filter: KpiFilter, limit = KPI_LIMIT): Promise<KpiEvent[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (sql: string, v: unknown): void => {
      args.push(v);
      where.push(sql.replace('?', `$${args.length}`));
    };
    if (filter.area !== undefined) add('v.area = ?', filter.area);
    if (filter.areaSet !== undefined) add('v.bs = ?', filter.areaSet);
    if (filter.period !== undefined) add('v.period = ?', filter.period);
    if (filter.kpi !== undefined) add('v.kpi = ?', filter.kpi);
    if (filter.level !== undefined)
      add('length(v.area) = ?', { province: 2, district: 3, commune: 5 }[filter.level]);
    if (filter.official) where.push('v.official');
    if (filter.fromYear !== undefined) add('v.year >= ?', filter.fromYear);
    if (filter.toYear !== undefined) add('v.year <= ?', filter.toYear);
    if (filter.scope !== undefined) {
      args.push(filter.scope.bs, filter.scope.area);
      const n = args.length;
      where.push(`(v.bs, v.area) IN (SELECT * FROM unnest($${n - 1}::text[], $${n}::text[]))`);
    }
    if (filter.after !== undefined) {
      args.push(filter.after.area, filter.after.period, filter.after.kpi);
      const n = args.length;
      where.push(`(v.area, v.period, v.kpi) > ($${n - 2}, $${n - 1}, $${n})`);
    }
    const events = (
      await this.kpis.currentEvents(this.ds, where.join(' AND '), args, limit, {
        rebased: filter.rebased ?? false,
      })
    ).map((p) => JSON.parse(p) as KpiEvent);
    const targets = await this.targets.load(
      this.ds,
      events.map((e) => e.kpi),
      events.map((e) => e.area),
    );
    // A target belongs to the unit it was set for: (areaSet, area).
    return events.map((e) =>
      withTarget(
        e,
        applicableTarget(targets, {
          ...e,
          bs: e.areaSet ?? boundarySetOf(mustParsePeriod(e.period)),
        }),
      ),
    );
  }
}
