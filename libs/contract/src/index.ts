export * from './topics.js';
export * from './errors.js';
export * from './feed.dto.js';
export * from './accepted-feed.js';
export * from './kpi-event.js';
export * from './validate-feed.js';
export * from './mapping.js';
export * from './csv-feed.js';
