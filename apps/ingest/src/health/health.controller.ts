import { Controller, Get, Inject } from '@nestjs/common';
import { BatchTransport, brokerReachable, KAFKA } from '@app/kafka';
import { consumerAlive, type HealthReport, healthReport, HealthResponses } from '@app/service';
import type { Kafka } from 'kafkajs';
import { FEEDS } from '../feeds/feeds.controller.js';
import { NormaliseFeedsHandler } from '../feeds/normalise-feeds.handler.js';

@Controller()
export class HealthController {
  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    private readonly transport: BatchTransport,
    private readonly handler: NormaliseFeedsHandler,
  ) {}

  /**
   * Liveness: the process answers and its consumer has not stopped for good. A broker or
   * database outage leaves it live (only not ready): restarting it would not help.
   */
  @Get('health/live')
  @HealthResponses()
  live(): Promise<HealthReport> {
    return healthReport('ingest', {
      consumer: () => consumerAlive(this.transport.consumerStatus(FEEDS)),
    });
  }

  /** Readiness: the broker answers and the consumer runs; 503 with the reason otherwise. */
  @Get(['health', 'health/ready'])
  @HealthResponses()
  health(): Promise<HealthReport> {
    return healthReport('ingest', {
      kafka: () => brokerReachable(this.kafka),
      consumer: () => {
        const s = this.transport.consumerStatus(FEEDS);
        return { ok: s?.running === true && !s.stalled, detail: s ?? 'not started' };
      },
      counters: () => ({ ok: true, detail: this.handler.counters }),
    });
  }
}
