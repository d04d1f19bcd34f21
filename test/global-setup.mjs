/**
 * Starts a real Kafka broker and a real PostgreSQL for the integration and e2e tiers (test
 * profile: its own ports and a data folder wiped on every start), unless KAFKA_BROKERS and
 * DATABASE_URL name existing ones. Runs once per `jest` run, whichever project asks first.
 */
import { startKafka, startPostgres } from '../scripts/infra.mjs';

export default async function globalSetup() {
  if (globalThis.__LGSP_INFRA__) return;
  const state = { startedKafka: false, pg: undefined };
  globalThis.__LGSP_INFRA__ = state;
  if (!process.env.KAFKA_BROKERS) {
    process.env.KAFKA_BROKERS = (await startKafka('test')).brokers;
    state.startedKafka = true;
  }
  if (!process.env.DATABASE_URL) {
    state.pg = await startPostgres('test');
    process.env.DATABASE_URL = state.pg.url;
  }
}
