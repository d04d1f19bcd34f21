import {
  type AreaNames,
  CSV_FIELDS,
  type MappingProfile,
  MEASURES,
  editDistance,
  foldedName,
} from '@app/catalogue';
import { FEED_ERROR, type FeedError } from './errors.js';

const AREA_CODE = /^\d{2}(\d|\d{3})?$/;

export interface MappedFeed {
  /** The feed with canonical measure codes, area codes and units; other fields untouched. */
  readonly plain: Record<string, unknown>;
  /** One error per name the profile could not map, with the closest known names. */
  readonly errors: FeedError[];
}

/**
 * Turns a source's own names into canonical codes with its mapping profile: measure names
 * (and their scale, e.g. thousands of subscribers), area names in any spelling (see
 * `AreaNames`), and the profile's area aliases. Canonical codes pass through unchanged, so
 * mapping a mapped feed changes nothing. Pure.
 */
export function mapFeed(
  plain: Record<string, unknown>,
  profile: MappingProfile,
  names: AreaNames | undefined,
  hints: HintBudget = { left: MAX_HINTS },
): MappedFeed {
  if (!Array.isArray(plain.observations)) return { plain, errors: [] };
  const errors: FeedError[] = [];
  const measureNames = new Map<string, { measure: string; scale?: number }>();
  for (const [name, m] of Object.entries(profile.measures ?? {}))
    measureNames.set(measureKey(name), m);
  const aliases = new Map<string, string>();
  for (const [name, code] of Object.entries(profile.areas ?? {}))
    aliases.set(foldedName(name), code);
  const known = [...Object.keys(MEASURES), ...Object.keys(profile.measures ?? {})];

  const observations = (plain.observations as unknown[]).map((raw, i) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
    const o = { ...(raw as Record<string, unknown>) };
    const at = `observations[${i}]`;
    if (typeof o.measure === 'string' && !MEASURES[o.measure]) {
      const m = measureNames.get(measureKey(o.measure));
      if (!m)
        errors.push({
          code: FEED_ERROR.unknownMeasure,
          path: `${at}.measure`,
          message: `"${o.measure}" is neither a measure nor a name in this source's mapping profile${hint(hints, o.measure, known)}`,
        });
      else {
        o.measure = m.measure;
        if (m.scale !== undefined && typeof o.value === 'number' && Number.isFinite(o.value))
          o.value = scale(o.value, m.scale);
      }
    }
    if (typeof o.area === 'string' && !AREA_CODE.test(o.area.trim())) {
      const alias = aliases.get(foldedName(o.area));
      if (alias) o.area = alias;
      else if (names) {
        const r = names.resolve(o.area, hints.left > 0);
        if (r.ok) o.area = r.unit.code;
        else {
          hints.left--;
          errors.push({ code: FEED_ERROR.unknownArea, path: `${at}.area`, message: r.reason });
        }
      }
    } else if (typeof o.area === 'string') o.area = o.area.trim();
    return o;
  });
  return { plain: { ...plain, observations }, errors };
}

/** "TB_BRDD", "tb brdd" and " Tb_Brdd " are one name. */
function measureKey(name: string): string {
  return foldedName(name).replace(/[\s_-]+/g, '_');
}

/** `412.5` thousand is 412500, without binary noise. */
function scale(value: number, by: number): number {
  return Math.round(value * by * 1e6) / 1e6;
}

/** ", did you mean ...?" with the closest known names by edit distance. */
export function suggest(name: string, known: readonly string[]): string {
  // No code is this long; comparing it to every one would only cost time.
  if (name.length > 64) return '';
  const scored = [...new Set(known)]
    .map((k) => [k, editDistance(name.toLowerCase(), k.toLowerCase())] as const)
    .sort((a, b) => a[1] - b[1])
    .slice(0, 3)
    .filter(([, d]) => d <= Math.max(3, name.length / 2));
  return scored.length ? `; did you mean ${scored.map(([k]) => `"${k}"`).join(', ')}?` : '';
}

/**
 * How many "did you mean" hints one feed still gets. A hint compares a name with every known
 * one; a feed of 10,000 unknown names gets hints for the first few and is refused at once.
 */
export interface HintBudget {
  left: number;
}
export const MAX_HINTS = 5;

/** `suggest`, while the feed's budget of hints lasts. */
export function hint(budget: HintBudget, name: string, known: readonly string[]): string {
  return budget.left-- > 0 ? suggest(name, known) : '';
}

/**
 * What is wrong with a mapping profile an admin submits, one message per problem. A profile
 * may not rename a canonical measure code: mapping a mapped feed must change nothing.
 */
export function checkMappingProfile(p: unknown): string[] {
  const problems: string[] = [];
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return ['a profile is an object'];
  const o = p as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!['measures', 'areas', 'numbers', 'columns'].includes(k))
      problems.push(`unknown field "${k}" (measures, areas, numbers, columns)`);
  const isRecord = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (o.measures !== undefined) {
    if (!isRecord(o.measures)) problems.push('measures: an object of name -> { measure, scale }');
    else
      for (const [name, m] of Object.entries(o.measures)) {
        if (name.trim().length === 0 || name.length > 64)
          problems.push(`measures: "${name}" must be 1 to 64 characters`);
        if (MEASURES[name])
          problems.push(`measures: "${name}" is already a measure code and cannot be renamed`);
        if (!isRecord(m) || typeof m.measure !== 'string' || !MEASURES[m.measure]) {
          const given = isRecord(m) && typeof m.measure === 'string' ? m.measure : '';
          problems.push(
            `measures.${name}.measure must be a measure code${given ? suggest(given, Object.keys(MEASURES)) : ''}`,
          );
          continue;
        }
        for (const k of Object.keys(m))
          if (k !== 'measure' && k !== 'scale')
            problems.push(`measures.${name}: unknown field "${k}"`);
        if (
          m.scale !== undefined &&
          (typeof m.scale !== 'number' || !Number.isFinite(m.scale) || m.scale <= 0)
        )
          problems.push(`measures.${name}.scale must be a positive number (1000 for thousands)`);
        if (m.scale !== undefined && MEASURES[m.measure]!.kind === 'item_set')
          problems.push(`measures.${name}: ${m.measure} is a set of codes and has no scale`);
      }
  }
  if (o.areas !== undefined) {
    if (!isRecord(o.areas)) problems.push('areas: an object of name -> area code');
    else
      for (const [name, code] of Object.entries(o.areas))
        if (typeof code !== 'string' || !AREA_CODE.test(code))
          problems.push(`areas.${name} must be an area code of 2, 3 or 5 digits`);
  }
  if (o.numbers !== undefined && o.numbers !== 'en' && o.numbers !== 'vi')
    problems.push('numbers must be "en" (1,234.5) or "vi" (1.234,5)');
  if (o.columns !== undefined) {
    if (!isRecord(o.columns)) problems.push('columns: an object of field -> CSV header');
    else
      for (const [field, header] of Object.entries(o.columns)) {
        if (!(CSV_FIELDS as readonly string[]).includes(field))
          problems.push(`columns: "${field}" is not a field (${CSV_FIELDS.join(', ')})`);
        if (typeof header !== 'string' || header.trim().length === 0)
          problems.push(`columns.${field} must be a header name`);
      }
  }
  return problems;
}
