export * from './kafka-client.js';
export * from './batch-consumer.js';
export * from './batch-transport.js';
export * from './murmur2.js';
export * from './codecs.js';
export * from './dlq-record.js';
export * from './acls.js';
export * from './scram.js';
