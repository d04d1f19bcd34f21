export * from './hub-config.js';
