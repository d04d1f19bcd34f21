import { Inject, Module, type OnApplicationShutdown, ValidationPipe } from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import { hubConfigProvider } from '@app/config';
import { DATA_SOURCE, dataSourceProvider } from '@app/database';
import type { DataSource } from 'typeorm';
import { HealthController } from './health/health.controller.js';
import { KpisController } from './kpis/kpis.controller.js';

@Module({
  controllers: [KpisController, HealthController],
  providers: [
    hubConfigProvider,
    dataSourceProvider,
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
