export const DATA_SOURCE = Symbol('DATA_SOURCE');
export const KAFKA = Symbol('KAFKA');
