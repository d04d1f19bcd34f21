import { runService } from '@app/service';
import { ApiModule } from './api.module.js';

await runService('api', ApiModule, (c) => c.API_PORT);
