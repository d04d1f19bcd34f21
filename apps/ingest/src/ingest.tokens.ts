export const KAFKA = Symbol('KAFKA');
export const FEED_RULES = Symbol('FEED_RULES');
