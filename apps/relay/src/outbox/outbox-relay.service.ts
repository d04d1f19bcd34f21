import { HUB_CONFIG, type HubConfig } from '@app/config';
import { DATA_SOURCE, OutboxStore } from '@app/database';
import { createIdempotentProducer, KAFKA } from '@app/kafka';
import { METRICS } from '@app/service';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Kafka, Producer } from 'kafkajs';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { RelayLoop, type RelaySession } from './relay-loop.js';

/**
 * Runs the outbox relay (RelayLoop) in this service: its own database session, which holds
 * the relay lock and listens to the flushes' notifications, and an idempotent producer.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly store = new OutboxStore();
  private readonly producer: Producer;
  private relay?: RelayLoop;

  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(KAFKA) kafka: Kafka,
  ) {
    this.producer = createIdempotentProducer(kafka);
  }

  get status(): RelayLoop['status'] {
    return (
      this.relay?.status ?? {
        leader: false,
        published: 0,
        lastPublishAt: null,
        lastError: 'not started',
      }
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.producer.connect();
    const relay = new RelayLoop(
      () => this.connect(),
      this.producer,
      this.config.OUTBOX_POLL_MS,
      (events, backlog) => {
        if (events > 0) METRICS.kpiEventsPublished.inc(events);
        METRICS.outboxBacklog.set(backlog);
      },
    );
    this.relay = relay;
    relay.start();
  }

  private async connect(): Promise<RelaySession> {
    const client = new pg.Client({
      connectionString: this.config.DATABASE_URL,
      application_name: 'lgsp-hub-relay',
    });
    await client.connect();
    client.on('notification', () => this.relay?.wake());
    // A session that fails (the database restarted) fails the loop's next query, which
    // connects anew; this only keeps the error from being unhandled meanwhile.
    client.on('error', () => undefined);
    const session: RelaySession = {
      query: async (sql, params) => (await client.query(sql, params)).rows,
      client,
      close: () => client.end(),
    };
    await this.store.listen(session);
    return session;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.relay?.stop();
    await this.producer.disconnect();
  }

  backlog(): Promise<number> {
    return this.store.backlog(this.ds);
  }
}
