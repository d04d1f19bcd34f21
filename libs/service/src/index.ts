export * from './run-service.js';
export * from './health.js';
