import { runService } from '@app/service';
import { IngestModule } from './ingest.module.js';

// The HTTP ingest reads request bodies itself: byte limits, invalid UTF-8 and CSV included.
await runService('ingest', IngestModule, (c) => c.INGEST_PORT, undefined, { bodyParser: false });
