import { runService } from '@app/service';
import { RelayModule } from './relay.module.js';

await runService('relay', RelayModule, {
  port: (c) => c.RELAY_PORT,
  openApi: { title: 'LGSP hub: relay', description: 'Health and metrics.' },
});
