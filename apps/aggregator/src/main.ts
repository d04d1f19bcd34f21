import { runService } from '@app/service';
import { AggregatorModule } from './aggregator.module.js';

await runService('aggregator', AggregatorModule, (c) => c.AGGREGATOR_PORT);
