import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, dataSourceProvider } from './data-source.js';

/**
 * The service's migrated DataSource (`@Inject(DATA_SOURCE)`), closed after every other
 * provider has stopped using it.
 */
@Global()
@Module({ providers: [dataSourceProvider], exports: [DATA_SOURCE] })
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}
