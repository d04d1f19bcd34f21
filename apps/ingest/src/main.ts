import { BatchTransport } from '@app/kafka';
import { runService } from '@app/service';
import { IngestModule } from './ingest.module.js';

await runService('ingest', IngestModule, {
  port: (c) => c.INGEST_PORT,
  // The HTTP ingest reads request bodies itself: byte limits, invalid UTF-8 and CSV included.
  bodyParser: false,
  transport: (app) => app.get(BatchTransport),
});
