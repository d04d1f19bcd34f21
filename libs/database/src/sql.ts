/**
 * Multi-row `VALUES` with one bind parameter per cell. For text-heavy rows (slices; the change
 * log's events go by COPY, ChangeLogWriter) this is several times cheaper than
 * `unnest($1::text[])`: node-postgres quotes and escapes every element of an array parameter,
 * while a plain parameter goes as it is.
 * (docs/performance.md, "Measurements behind the code".) Narrow rows without long text are cheaper as arrays.
 */

/** PostgreSQL takes at most 65,535 bind parameters per statement. */
const MAX_PARAMS = 65_535;

export interface ValuesChunk {
  /** `($1::text, $2::int), (...)` */
  readonly sql: string;
  readonly params: unknown[];
}

/**
 * Splits rows into statements' worth of `VALUES` lists of `width` columns. The parameters are
 * untyped: in `INSERT INTO t (cols) VALUES ...` PostgreSQL takes their types from the columns
 * (and a cast per cell makes a large statement markedly slower to plan).
 */
export function valuesChunks<T>(
  rows: readonly T[],
  width: number,
  cells: (row: T) => unknown[],
): ValuesChunk[] {
  const perStatement = Math.floor(MAX_PARAMS / width);
  const out: ValuesChunk[] = [];
  for (let start = 0; start < rows.length; start += perStatement) {
    const slice = rows.slice(start, start + perStatement);
    const params: unknown[] = [];
    const tuples: string[] = [];
    for (const row of slice) {
      const values = cells(row);
      const base = params.length;
      params.push(...values);
      tuples.push(`(${values.map((_, i) => `$${base + i + 1}`).join(', ')})`);
    }
    out.push({ sql: tuples.join(', '), params });
  }
  return out;
}

/** TypeORM answers an UPDATE ... RETURNING with [rows, count], an INSERT with the rows. */
export const returned = <T = unknown>(result: unknown): T[] =>
  Array.isArray(result) && Array.isArray(result[0]) ? (result[0] as T[]) : (result as T[]);
