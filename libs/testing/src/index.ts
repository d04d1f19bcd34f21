/**
 * Helpers for the integration and e2e tiers: real Kafka, real Postgres, the built services as
 * real processes. No mocks, no sleeps: `eventually()` polls with a deadline.
 */
export * from './eventually.js';
export * from './infra.js';
export * from './kafka.js';
export * from './hub.js';
export * from './workload.js';
export * from './java.js';
