import {
  type AdminUnits,
  type KpiComputation,
  type KpiKey,
  KPIS,
  mustParsePeriod,
} from '@app/catalogue';
import type { StoredKpi } from '@app/database';
import { randomUUID } from 'node:crypto';

/** The stored row of a KPI's next revision. */
export function nextRevision(
  key: KpiKey,
  computed: KpiComputation,
  previous: StoredKpi | undefined,
  units: AdminUnits,
  now: Date,
): StoredKpi {
  return {
    kpi: key.kpi,
    area: key.area,
    period: key.period,
    bs: key.bs,
    year: mustParsePeriod(key.period).year,
    areaName: units.get(key.bs, key.area)?.name ?? key.area,
    unit: KPIS[key.kpi]!.unit,
    value: computed.value,
    numerator: computed.numerator,
    denominator: computed.denominator,
    denominatorPeriod: computed.denominatorPeriod,
    status: computed.status,
    completeness: computed.completeness,
    inputs: computed.inputs,
    note: computed.note ?? null,
    yearToDate: computed.yearToDate ?? null,
    revision: (previous?.revision ?? 0) + 1,
    eventId: randomUUID(),
    computedAt: now.toISOString(),
  };
}
