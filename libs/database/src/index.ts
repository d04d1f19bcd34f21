export * from './entities/feed.entity.js';
export * from './entities/observation.entity.js';
export * from './entities/kpi-value.entity.js';
export * from './entities/outbox.entity.js';
export * from './data-source.js';
export * from './aggregate-store.js';
export * from './outbox-store.js';
export * from './target-store.js';
