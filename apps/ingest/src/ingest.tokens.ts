export const FEED_RULES = Symbol('FEED_RULES');
