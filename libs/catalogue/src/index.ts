export * from './period.js';
export * from './admin-units.js';
export * from './catalogue.js';
export * from './aggregate.js';
export * from './targets.js';
export * from './lateness.js';
export * from './area-names.js';
