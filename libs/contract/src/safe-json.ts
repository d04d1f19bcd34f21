import { parse as secureParse } from 'secure-json-parse';

/**
 * How deep any JSON the hub reads may nest. A feed's item codes sit four levels down; 32
 * leaves room for admin bodies and mapping profiles. The depth is checked before parsing, so
 * nothing recursive (class-transformer, class-validator, error flattening) ever sees a
 * record nested 100,000 levels deep (issue 23).
 */
export const MAX_JSON_DEPTH = 32;

/**
 * How deeply `text`'s arrays and objects nest, in one pass without recursion; it stops as
 * soon as `limit` is passed. Brackets inside strings do not count.
 */
export function jsonDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

export type JsonParsed = { ok: true; value: unknown } | { ok: false; message: string };

/**
 * JSON.parse for records from anyone: bounded depth, and no `__proto__` or
 * `constructor.prototype` keys (they would reach an object's prototype through
 * `Object.assign` or class-transformer). Never throws.
 */
export function parseJson(text: string, maxDepth = MAX_JSON_DEPTH): JsonParsed {
  if (jsonDepth(text, maxDepth) > maxDepth)
    return { ok: false, message: `it nests deeper than ${maxDepth} levels` };
  try {
    return {
      ok: true,
      value: secureParse(text, undefined, { protoAction: 'error', constructorAction: 'error' }),
    };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return {
      ok: false,
      message: /prototype/i.test(message)
        ? 'it has a "__proto__" or "constructor.prototype" key'
        : message,
    };
  }
}
