import { ADMIN_UNITS } from '@app/service';
import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AdminUnits } from '@app/catalogue';
import { HUB_CONFIG, type HubConfig } from '@app/config';
import { TOPICS } from '@app/contract';
import { DATA_SOURCE } from '@app/database';
import { KAFKA } from '@app/kafka';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { KpiAreaList, PipelineView } from './ops.responses.js';

async function getHealth(
  url: string,
): Promise<{ reachable: boolean; status: number | null; body: unknown }> {
  try {
    const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
    return { reachable: true, status: r.status, body: await r.json() };
  } catch (e) {
    return { reachable: false, status: null, body: { error: (e as Error).message } };
  }
}

/** Pipeline and source status, for the ops team and the dashboard. */
@ApiTags('operations')
@Controller('v1')
export class OpsController {
  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(ADMIN_UNITS) private readonly units: AdminUnits,
  ) {}

  @Get('pipeline')
  @ApiOperation({ summary: "Each service's health (consumer, lag, counters) and the DLQ size" })
  @ApiOkResponse({ type: PipelineView })
  async pipeline() {
    const c = this.config;
    const urls = {
      ingest: c.INGEST_URL ?? `http://127.0.0.1:${c.INGEST_PORT}`,
      aggregator: c.AGGREGATOR_URL ?? `http://127.0.0.1:${c.AGGREGATOR_PORT}`,
      relay: c.RELAY_URL ?? `http://127.0.0.1:${c.RELAY_PORT}`,
      api: `http://127.0.0.1:${c.API_PORT}`,
    };
    const services = await Promise.all(
      Object.entries(urls).map(async ([name, url]) => {
        const h = await getHealth(url);
        return { name, url, reachable: h.reachable, status: h.status, health: h.body };
      }),
    );
    return { checkedAt: new Date().toISOString(), services, dlq: await this.dlqSize() };
  }

  private async dlqSize(): Promise<{ records: number | null; error?: string }> {
    const admin = this.kafka.admin({ retry: { retries: 0 } });
    try {
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets(TOPICS.dlq);
      return { records: offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0) };
    } catch (e) {
      return { records: null, error: (e as Error).message };
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  @Get('kpi-areas')
  @ApiOperation({ summary: 'The areas that have KPIs or plan targets, provinces first' })
  @ApiOkResponse({ type: KpiAreaList })
  async kpiAreas() {
    const rows: { area: string; bs: string; kpis: string; targets: string }[] = await this.ds.query(
      `SELECT area, bs, sum(kpis)::text AS kpis, sum(targets)::text AS targets FROM (
         SELECT area, bs, count(*) AS kpis, 0 AS targets FROM kpi_value GROUP BY area, bs
         UNION ALL
         SELECT area, bs, 0, count(*) FROM plan_target GROUP BY area, bs) u
        GROUP BY area, bs ORDER BY length(area), area, bs`,
    );
    return {
      items: rows.map((r) => ({
        area: r.area,
        areaName: this.units.get(r.bs as '2008' | '2025', r.area)?.name ?? r.area,
        set: r.bs,
        kpis: Number(r.kpis),
        targets: Number(r.targets),
      })),
    };
  }
}
