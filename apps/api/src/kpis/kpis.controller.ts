import { Controller, Get, Inject, Query } from '@nestjs/common';
import type { KpiEvent } from '@app/contract';
import { KpiValueEntity, DATA_SOURCE } from '@app/database';
import type { DataSource } from 'typeorm';
import { KpiQueryDto } from './kpi-query.dto.js';

const LIMIT = 10_000;

/** The current value of every KPI key: what the latest event per key on `lgsp.kpi.v1` says. */
@Controller('v1/kpis')
export class KpisController {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  @Get()
  async list(@Query() q: KpiQueryDto): Promise<{ count: number; items: KpiEvent[] }> {
    const rows = await this.ds.getRepository(KpiValueEntity).find({
      where: {
        ...(q.area ? { area: q.area } : {}),
        ...(q.period ? { period: q.period } : {}),
        ...(q.kpi ? { kpi: q.kpi } : {}),
      },
      order: { area: 'ASC', period: 'ASC', kpi: 'ASC' },
      take: LIMIT,
    });
    const items = rows.map(toEvent);
    return { count: items.length, items };
  }
}

function toEvent(r: KpiValueEntity): KpiEvent {
  return {
    schema: 'lgsp.kpi.v1',
    eventId: r.eventId,
    kpi: r.kpi,
    area: r.area,
    areaName: r.areaName,
    period: r.period,
    value: r.value,
    unit: r.unit,
    numerator: r.numerator,
    denominator: r.denominator,
    denominatorPeriod: r.denominatorPeriod,
    status: r.status,
    completeness: r.completeness,
    revision: r.revision,
    computedAt: r.computedAt.toISOString(),
    inputs: r.inputs as KpiEvent['inputs'],
    ...(r.note ? { note: r.note } : {}),
  };
}
