import { feedOpenApiSchemas } from '@app/contract';
import { BatchTransport } from '@app/kafka';
import { runService } from '@app/service';
import { IngestModule } from './ingest.module.js';

await runService('ingest', IngestModule, {
  port: (c) => c.INGEST_PORT,
  openApi: {
    title: 'LGSP hub: ingest',
    description:
      "Feeds over HTTP for sources that do not speak Kafka, with the source's API key. " +
      'The JSON Schema of a feed: GET /v1/feeds/schema.',
    extend: (doc) => Object.assign(((doc.components ??= {}).schemas ??= {}), feedOpenApiSchemas()),
  },
  // The HTTP ingest reads request bodies itself: byte limits, invalid UTF-8 and CSV included.
  bodyParser: false,
  transport: (app) => app.get(BatchTransport),
});
