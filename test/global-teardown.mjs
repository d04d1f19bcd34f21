import { stopKafka } from '../scripts/infra.mjs';

/** Stops what global-setup started: nothing is left running after `npm test`. */
export default async function globalTeardown() {
  const state = globalThis.__LGSP_INFRA__;
  if (!state || state.done) return;
  state.done = true;
  if (state.pg) await state.pg.stop();
  if (state.startedKafka) await stopKafka('test');
}
