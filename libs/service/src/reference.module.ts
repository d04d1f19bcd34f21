import { Global, Module } from '@nestjs/common';
import { AdminUnits } from '@app/catalogue';
import { HUB_CONFIG, type HubConfig } from '@app/config';

/** The administrative units (2008 and 2025 lists), loaded once per process. */
export const ADMIN_UNITS = Symbol('ADMIN_UNITS');

@Global()
@Module({
  providers: [
    {
      provide: ADMIN_UNITS,
      inject: [HUB_CONFIG],
      useFactory: (c: HubConfig): AdminUnits => AdminUnits.load(c.ADMIN_UNITS_DIR),
    },
  ],
  exports: [ADMIN_UNITS],
})
export class ReferenceModule {}
