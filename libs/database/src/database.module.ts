import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { AccessStore } from './access-store.js';
import { AuditStore } from './audit-store.js';
import { DATA_SOURCE, dataSourceProvider } from './data-source.js';
import { FeedStore } from './feed-store.js';
import { KpiStore } from './kpi-store.js';
import { OutboxStore } from './outbox-store.js';
import { RegistryStore } from './registry-store.js';
import { SliceStore } from './slice-store.js';
import { TargetStore } from './target-store.js';

/** The SQL of each table family: stateless, one instance per service. */
const STORES = [
  AccessStore,
  AuditStore,
  FeedStore,
  KpiStore,
  OutboxStore,
  RegistryStore,
  SliceStore,
  TargetStore,
];

/**
 * The service's migrated DataSource (`@Inject(DATA_SOURCE)`), closed after every other
 * provider has stopped using it, and the stores that run SQL on it.
 */
@Global()
@Module({
  providers: [dataSourceProvider, ...STORES],
  exports: [DATA_SOURCE, ...STORES],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}
