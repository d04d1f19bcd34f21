import { runService } from '@app/service';
import { ApiModule } from './api.module.js';

await runService('api', ApiModule, {
  port: (c) => c.API_PORT,
  openApi: {
    title: 'LGSP digital-infrastructure hub',
    description:
      'KPIs of provincial digital infrastructure, as published on lgsp.kpi.v1, with plan targets. ' +
      'Incremental loads: GET /v1/kpi-changes with the cursor of the previous call.',
  },
});
