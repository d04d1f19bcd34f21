export * from './period.js';
export * from './admin-units.js';
export * from './catalogue.js';
export * from './kpi-model.js';
export * from './targets.js';
export * from './lateness.js';
export * from './area-names.js';
export * from './kpi-names.js';
