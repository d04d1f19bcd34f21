export * from './run-service.js';
export * from './health.js';
export * from './metrics.js';
export * from './pino-logger.js';
export * from './reference.module.js';
