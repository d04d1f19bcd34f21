import type { PlanTarget } from '@app/catalogue';
import type { DataSource, QueryRunner } from 'typeorm';

/** Plan targets: loaded by the API, read by the aggregator and the API. */
export class TargetStore {
  /** Inserts or replaces targets by (plan, unit, KPI, target period). */
  async upsert(ds: DataSource, targets: readonly PlanTarget[]): Promise<void> {
    if (targets.length === 0) return;
    const col = <K extends keyof PlanTarget>(k: K) => targets.map((t) => t[k]);
    await ds.query(
      `INSERT INTO plan_target (plan_id, issuing_body, document_number, bs, area, kpi,
                                target_period, target_value, comparison, note)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                            $6::text[], $7::text[], $8::float8[], $9::text[], $10::text[])
       ON CONFLICT (plan_id, bs, area, kpi, target_period) DO UPDATE SET
         issuing_body = EXCLUDED.issuing_body, document_number = EXCLUDED.document_number,
         target_value = EXCLUDED.target_value, comparison = EXCLUDED.comparison,
         note = EXCLUDED.note, loaded_at = now()`,
      [
        col('planId'),
        col('issuingBody'),
        col('documentNumber'),
        col('bs'),
        col('area'),
        col('kpi'),
        col('targetPeriod'),
        col('targetValue'),
        col('comparison'),
        col('note'),
      ],
    );
  }

  /** Targets of these KPIs in these areas (either boundary set). */
  async load(
    q: QueryRunner | DataSource,
    kpis: readonly string[],
    areas: readonly string[],
  ): Promise<PlanTarget[]> {
    if (kpis.length === 0 || areas.length === 0) return [];
    const rows: Record<string, unknown>[] = await q.query(
      `SELECT * FROM plan_target WHERE kpi = ANY($1::text[]) AND area = ANY($2::text[])`,
      [[...new Set(kpis)], [...new Set(areas)]],
    );
    return rows.map(toTarget);
  }

  async list(
    ds: DataSource,
    filter: { area?: string; areaSet?: string; kpi?: string },
  ): Promise<PlanTarget[]> {
    const rows: Record<string, unknown>[] = await ds.query(
      `SELECT * FROM plan_target
        WHERE ($1::text IS NULL OR area = $1) AND ($2::text IS NULL OR kpi = $2)
          AND ($3::text IS NULL OR bs = $3)
        ORDER BY area, kpi, target_period`,
      [filter.area ?? null, filter.kpi ?? null, filter.areaSet ?? null],
    );
    return rows.map(toTarget);
  }
}

function toTarget(r: Record<string, unknown>): PlanTarget {
  return {
    planId: r.plan_id as string,
    issuingBody: r.issuing_body as string,
    documentNumber: r.document_number as string,
    bs: r.bs as PlanTarget['bs'],
    area: r.area as string,
    kpi: r.kpi as string,
    targetPeriod: r.target_period as string,
    targetValue: r.target_value as number,
    comparison: r.comparison as PlanTarget['comparison'],
    note: (r.note as string | null) ?? null,
  };
}
