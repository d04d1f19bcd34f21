export * from './kafka-client.js';
export * from './batch-consumer.js';
