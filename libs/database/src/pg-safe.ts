/**
 * PostgreSQL's text and jsonb take neither a NUL character nor half of a surrogate pair, and
 * a record from anyone can carry both, in its key or in what its errors quote back. Written
 * as they are, they make the statement fail as if the database were down, and the batch
 * retry; these stand U+FFFD in their place.
 */
const NOT_STORABLE =
  /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function pgText(s: string): string;
export function pgText(s: string | null): string | null;
export function pgText(s: string | null): string | null {
  return s === null ? null : s.replace(NOT_STORABLE, '\ufffd');
}

/** JSON for a jsonb column, every string in it made storable. */
export function pgJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? pgText(v) : v));
}
