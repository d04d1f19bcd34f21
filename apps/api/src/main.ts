import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { runService } from '@app/service';
import { ApiModule } from './api.module.js';

await runService('api', ApiModule, {
  port: (c) => c.API_PORT,
  setup: (app) => {
    const doc = new DocumentBuilder()
      .setTitle('LGSP digital-infrastructure hub')
      .setDescription(
        'KPIs of provincial digital infrastructure, as published on lgsp.kpi.v1, with plan targets. ' +
          'Incremental loads: GET /v1/kpi-changes with the cursor of the previous call.',
      )
      .setVersion('1')
      .addBearerAuth()
      .build();
    SwaggerModule.setup('docs', app, SwaggerModule.createDocument(app, doc), {
      jsonDocumentUrl: 'docs/openapi.json',
    });
  },
});
