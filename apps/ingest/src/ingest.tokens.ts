export const ADMIN_UNITS = Symbol('ADMIN_UNITS');
