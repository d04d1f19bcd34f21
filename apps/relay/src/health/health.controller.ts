import { DATA_SOURCE } from '@app/database';
import { brokerReachable, KAFKA } from '@app/kafka';
import { databaseCheck, type HealthReport, healthReport, HealthResponses } from '@app/service';
import { Controller, Get, Inject } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { OutboxRelay } from '../outbox/outbox-relay.service.js';

@Controller()
export class HealthController {
  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    private readonly relay: OutboxRelay,
  ) {}

  /** Liveness: the process answers (an outage of the broker or database: not ready, not dead). */
  @Get('health/live')
  @HealthResponses()
  live(): Promise<HealthReport> {
    return healthReport('relay', {});
  }

  /**
   * Readiness: 200 when broker, database and relay work (an instance that waits for the leader's lock
   * is healthy: it takes over when the leader dies); 503 with the reason.
   */
  @Get(['health', 'health/ready'])
  @HealthResponses()
  health(): Promise<HealthReport> {
    return healthReport('relay', {
      kafka: () => brokerReachable(this.kafka),
      database: () => databaseCheck((sql) => this.ds.query(sql)),
      outbox: async () => ({
        ok: this.relay.status.lastError === null,
        detail: { ...this.relay.status, backlog: await this.relay.backlog() },
      }),
    });
  }
}
