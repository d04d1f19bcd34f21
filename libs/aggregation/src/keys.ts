/**
 * The packed numbers the engine keys its maps and logs with. A measure index is below 32, a
 * qualifier below 8, a slot below 32 and a source index below 1024; feeds and units are not
 * bounded, so they take the high part (and feed ids past 2^23 use division, not shifts).
 */

/** A cell a slice won: its unit and measure. */
export const packCell = (unit: number, measure: number): number => unit * 32 + measure;
export const cellUnit = (cell: number): number => cell >> 5;
export const cellMeasure = (cell: number): number => cell & 31;

/** One observation used by a key (its lineage): the feed, its qualifier and the measure. */
export const packInput = (feed: number, qualifier: number, measure: number): number =>
  feed * 256 + qualifier * 32 + measure;
export const inputFeed = (input: number): number => Math.floor(input / 256);
export const inputQualifier = (input: number): number => (input >> 5) & 7;
export const inputMeasure = (input: number): number => input & 31;

/** One source's series of a measure. */
export const seriesKey = (measure: number, source: number): number => measure * 1024 + source;

/** One source's resolution of a measure at a slot (of the year a flush is at). */
export const seriesSlotKey = (measure: number, source: number, slot: number): number =>
  seriesKey(measure, source) * 32 + slot;

/** The merged (all sources) resolution of a measure at a (year, slot). */
export const mergedKey = (year: number, measure: number, slot: number): number =>
  ((year - 1900) * 32 + measure) * 32 + slot;

/** Every source's resolution of a measure at a slot: a row. */
export const rowKey = (measure: number, slot: number): number => measure * 32 + slot;

/** The sources that reported a measure in a year. */
export const measureYearKey = (measure: number, year: number): number => measure * 10_000 + year;
