import type { HeldBytes } from '@app/aggregation';
import { DATA_SOURCE } from '@app/database';
import { Controller, Get, Inject } from '@nestjs/common';
import { BatchTransport, brokerReachable, KAFKA } from '@app/kafka';
import {
  consumerAlive,
  databaseCheck,
  type HealthReport,
  healthReport,
  HealthResponses,
} from '@app/service';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { ApplySlicesHandler } from '../feeds/apply-slices.handler.js';
import { SLICES } from '../feeds/feed-slices.controller.js';
import { GroupCache } from '../groups/group-cache.service.js';
import { KpiPublisher } from '../kpis/kpi-publisher.service.js';

/** The held state's bytes in MB, one decimal, with their total. */
function stateMb(held: HeldBytes): Record<string, number> {
  const mb = (n: number): number => Math.round((n / 2 ** 20) * 10) / 10;
  const total = Object.values(held).reduce((a, b) => a + b, 0);
  return {
    ...Object.fromEntries(Object.entries(held).map(([k, v]) => [k, mb(v)])),
    total: mb(total),
  };
}

@Controller()
export class HealthController {
  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    private readonly transport: BatchTransport,
    private readonly slices: ApplySlicesHandler,
    private readonly publisher: KpiPublisher,
    private readonly cache: GroupCache,
  ) {}

  /**
   * Liveness: the process answers and its consumer has not stopped for good. A broker or
   * database outage leaves it live (only not ready): restarting it would not help.
   */
  @Get('health/live')
  @HealthResponses()
  live(): Promise<HealthReport> {
    return healthReport('aggregator', {
      consumer: () => consumerAlive(this.transport.consumerStatus(SLICES)),
    });
  }

  /** Readiness: broker, database, consumer and publisher work; 503 with the reason. */
  @Get(['health', 'health/ready'])
  @HealthResponses()
  health(): Promise<HealthReport> {
    return healthReport('aggregator', {
      kafka: () => brokerReachable(this.kafka),
      database: () => databaseCheck((sql) => this.ds.query(sql)),
      consumer: () => {
        const s = this.transport.consumerStatus(SLICES);
        return {
          ok: s?.running === true && !s.stalled,
          detail: { ...s, ...this.slices.counters },
        };
      },
      kpis: () => ({
        ok: this.publisher.status.lastError === null,
        detail: {
          ...this.publisher.status,
          waiting: this.publisher.waiting,
          pending: this.publisher.pending(),
          groupsHeld: this.cache.held().length,
          observationsHeld: this.cache.cells(),
          stateMb: stateMb(this.cache.heldBytes()),
        },
      }),
    });
  }
}
