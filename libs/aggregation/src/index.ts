export * from './slots.js';
export * from './layout.js';
export * from './group-state.js';
export * from './evaluate.js';
export * from './attribution.js';
