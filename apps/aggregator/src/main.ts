import { BatchTransport } from '@app/kafka';
import { runService } from '@app/service';
import { AggregatorModule } from './aggregator.module.js';

await runService('aggregator', AggregatorModule, {
  port: (c) => c.AGGREGATOR_PORT,
  openApi: { title: 'LGSP hub: aggregator', description: 'Health and metrics.' },
  transport: (app) => app.get(BatchTransport),
});
