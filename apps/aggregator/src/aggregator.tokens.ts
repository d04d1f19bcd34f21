export const KAFKA = Symbol('KAFKA');
export const DATA_SOURCE = Symbol('DATA_SOURCE');
export const AGGREGATION_CONTEXT = Symbol('AGGREGATION_CONTEXT');
