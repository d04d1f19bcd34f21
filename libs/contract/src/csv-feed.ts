import { CSV_FIELDS, type CsvField, type MappingProfile, foldedName } from '@app/catalogue';
import { parse } from 'csv-parse/sync';
import { FEED_ERROR, type FeedError } from './errors.js';
import { FEED_SCHEMA } from './feed.dto.js';

/** Feed-level fields given beside the CSV (query parameters), when it has no column for them. */
export interface CsvFeedFields {
  readonly source: string;
  readonly feedId?: string;
  readonly period?: string;
  readonly sentAt?: string;
  readonly status?: string;
}

export type CsvFeedResult =
  | { readonly ok: true; readonly plain: Record<string, unknown> }
  | { readonly ok: false; readonly errors: FeedError[] };

const FEED_FIELDS = ['feedId', 'period', 'sentAt', 'status'] as const;

/**
 * Turns a CSV of one observation per row (area, measure, value or items, qualifier) into a
 * feed in the source's own names, for `validateFeed` to map and check like any other.
 * Delimiter `,`, `;` or tab; items separated by `|` (or `;` when it is not the delimiter);
 * `null` retracts; numbers as the profile writes them. Pure.
 */
export function csvToFeed(
  text: string,
  fields: CsvFeedFields,
  profile: MappingProfile | undefined,
): CsvFeedResult {
  const firstLine = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  const delimiter = [',', ';', '\t'].reduce((best, d) =>
    firstLine.split(d).length > firstLine.split(best).length ? d : best,
  );
  let rows: string[][];
  try {
    const parsed: unknown = parse(text, {
      bom: true,
      delimiter,
      skip_empty_lines: true,
      trim: true,
    });
    rows = parsed as string[][];
  } catch (e) {
    return fail('', `the CSV cannot be read: ${(e as Error).message}`);
  }
  if (rows.length < 2)
    return fail('', 'the CSV needs a header row and at least one observation row');
  const header = rows[0]!.map((h) => foldedName(h));
  const column = (f: CsvField): number => {
    const name = profile?.columns?.[f] ?? f;
    return header.indexOf(foldedName(name));
  };
  const at = Object.fromEntries(CSV_FIELDS.map((f) => [f, column(f)])) as Record<CsvField, number>;
  const errors: FeedError[] = [];
  const need = (f: CsvField): void => {
    if (at[f] < 0)
      errors.push({
        code: FEED_ERROR.malformedCsv,
        path: 'header',
        message: `no "${profile?.columns?.[f] ?? f}" column (the ${f}); the header is: ${rows[0]!.join(', ')}`,
      });
  };
  need('area');
  need('measure');
  if (at.value < 0 && at.items < 0) need('value');
  if (errors.length) return { ok: false, errors };

  const feed: Record<string, unknown> = { schema: FEED_SCHEMA, source: fields.source };
  for (const f of FEED_FIELDS) {
    const given = fields[f];
    const col = at[f];
    const inRows = col >= 0 ? [...new Set(rows.slice(1).map((r) => r[col] ?? ''))] : [];
    if (inRows.length > 1)
      errors.push({
        code: FEED_ERROR.malformedCsv,
        path: f,
        message: `column "${rows[0]![col]}" must hold one ${f} for the whole file; it holds ${inRows.slice(0, 3).join(', ')}`,
      });
    else if (given !== undefined && inRows.length === 1 && inRows[0] !== given)
      errors.push({
        code: FEED_ERROR.malformedCsv,
        path: f,
        message: `${f} is "${given}" in the request but "${inRows[0]}" in the file`,
      });
    const value = given ?? inRows[0];
    if (value !== undefined && value !== '') feed[f] = value;
  }
  const itemSeparator = delimiter === ';' ? /\|/ : /[|;]/;
  feed.observations = rows.slice(1).map((r) => {
    const o: Record<string, unknown> = { area: r[at.area] ?? '', measure: r[at.measure] ?? '' };
    const value = at.value >= 0 ? (r[at.value] ?? '') : '';
    const items = at.items >= 0 ? (r[at.items] ?? '') : '';
    if (value !== '') o.value = /^null$/i.test(value) ? null : number(value, profile?.numbers);
    if (items !== '')
      o.items = /^null$/i.test(items)
        ? null
        : items
            .split(itemSeparator)
            .map((s) => s.trim())
            .filter((s) => s.length > 0);
    const qualifier = at.qualifier >= 0 ? (r[at.qualifier] ?? '') : '';
    if (qualifier !== '') o.qualifier = qualifier;
    return o;
  });
  return errors.length ? { ok: false, errors } : { ok: true, plain: feed };
}

/** A number as the source writes it, or the text itself for validation to reject. */
function number(text: string, style: 'en' | 'vi' = 'en'): number | string {
  const t = text.replace(/[\s\u00a0]/g, '');
  const plain = style === 'vi' ? t.replace(/\./g, '').replace(',', '.') : t.replace(/,/g, '');
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(plain)) return text;
  // "1e999" is Infinity, which JSON would write as null: a retraction nobody sent.
  const n = Number(plain);
  return Number.isFinite(n) ? n : text;
}

/** `observations[4].value` is row 6 of the file (after the header, counting from 1). */
export function csvPath(path: string): string {
  return path.replace(/^observations\[(\d+)\]/, (_, i: string) => `row ${Number(i) + 2}`);
}

function fail(path: string, message: string): CsvFeedResult {
  return { ok: false, errors: [{ code: FEED_ERROR.malformedCsv, path, message }] };
}
