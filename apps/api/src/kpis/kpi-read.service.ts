import { Inject, Injectable } from '@nestjs/common';
import { applicableTarget } from '@app/catalogue';
import type { KpiEvent } from '@app/contract';
import { DATA_SOURCE, KpiValueEntity, TargetStore, toKpiEvent } from '@app/database';
import type { DataSource, FindOptionsWhere } from 'typeorm';

export const KPI_LIMIT = 10_000;

/**
 * Reads KPIs as the latest event per key says them, with the plan target that applies now
 * (targets are loaded any time; the API always shows the current plans).
 */
@Injectable()
export class KpiReadService {
  private readonly targets = new TargetStore();

  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  async find(where: FindOptionsWhere<KpiValueEntity>, limit = KPI_LIMIT): Promise<KpiEvent[]> {
    const rows = await this.ds.getRepository(KpiValueEntity).find({
      where,
      order: { area: 'ASC', period: 'ASC', kpi: 'ASC' },
      take: limit,
    });
    const targets = await this.targets.load(
      this.ds,
      rows.map((r) => r.kpi),
      rows.map((r) => r.area),
    );
    return rows.map((r) =>
      toKpiEvent({ ...r, computedAt: r.computedAt.toISOString() }, applicableTarget(targets, r)),
    );
  }
}
