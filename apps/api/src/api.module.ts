import { Inject, Module, type OnApplicationShutdown, ValidationPipe } from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import { HUB_CONFIG, type HubConfig, loadConfig } from '@app/config';
import { createDataSource, runMigrations } from '@app/database';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from './api.tokens.js';
import { HealthController } from './health/health.controller.js';
import { KpisController } from './kpis/kpis.controller.js';

@Module({
  controllers: [KpisController, HealthController],
  providers: [
    { provide: HUB_CONFIG, useFactory: () => loadConfig() },
    {
      provide: DATA_SOURCE,
      inject: [HUB_CONFIG],
      useFactory: async (c: HubConfig): Promise<DataSource> => {
        const ds = await createDataSource(c.DATABASE_URL).initialize();
        await runMigrations(ds);
        return ds;
      },
    },
    {
      provide: APP_PIPE,
      useValue: new ValidationPipe({
        whitelist: true,
        forbidNonWhitelisted: true,
        transform: true,
      }),
    },
  ],
})
export class ApiModule implements OnApplicationShutdown {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}
