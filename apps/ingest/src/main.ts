import { runService } from '@app/service';
import { IngestModule } from './ingest.module.js';

await runService('ingest', IngestModule, (c) => c.INGEST_PORT);
