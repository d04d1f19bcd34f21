import { DATA_SOURCE } from '@app/database';
import { Controller, Get, Inject } from '@nestjs/common';
import { brokerReachable, KAFKA } from '@app/kafka';
import { databaseCheck, type HealthReport, healthReport } from '@app/service';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { AcceptedFeedsConsumer } from '../feeds/accepted-feeds.consumer.js';
import { OutboxRelay } from '../outbox/outbox-relay.service.js';

@Controller()
export class HealthController {
  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    private readonly consumer: AcceptedFeedsConsumer,
    private readonly relay: OutboxRelay,
  ) {}

  /** 200 when broker, database, consumer and relay work; 503 with the reason otherwise. */
  @Get('health')
  health(): Promise<HealthReport> {
    return healthReport('aggregator', {
      kafka: () => brokerReachable(this.kafka),
      database: () => databaseCheck((sql) => this.ds.query(sql)),
      consumer: () => {
        const s = this.consumer.consumer?.status();
        return {
          ok: s?.running === true && !s.stalled,
          detail: { ...s, ...this.consumer.counters },
        };
      },
      outbox: async () => ({
        ok: this.relay.status.lastError === null,
        detail: { ...this.relay.status, backlog: await this.relay.backlog() },
      }),
    });
  }
}
