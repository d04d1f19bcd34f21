import type { AdminUnits, AreaUnit, BoundarySet } from './admin-units.js';

/**
 * The words a name may start with that say what kind of unit it is ("Tỉnh", "TP.", "Huyện"),
 * folded like the names themselves. Longest first, so "thanh pho" wins over "thanh".
 */
const UNIT_WORDS = [
  'thanh pho truc thuoc trung uong',
  'thanh pho',
  'thi tran',
  'thi xa',
  'dac khu',
  'phuong',
  'huyen',
  'tinh',
  'quan',
  'xa',
  'tp',
  'tx',
  'tt',
];

/** Lower case, composed (NFC) form, without the unit-kind word, single spaces. */
export function exactName(name: string): string {
  return stripUnitWord(
    name
      .normalize('NFC')
      .toLowerCase()
      .replace(/[.,_/\\|-]+/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
    (s) => fold(s),
  );
}

/** As `exactName`, and without diacritics: "Tỉnh Ninh Bình", "NINH BINH" and "ninh binh" agree. */
export function foldedName(name: string): string {
  return fold(exactName(name));
}

function fold(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'd')
    .toLowerCase();
}

const ABBREVIATIONS: Record<string, string> = { tp: 'thanh pho', tx: 'thi xa', tt: 'thi tran' };

/** The unit-kind word a name starts with, folded and spelt out ("TP." is "thanh pho"). */
export function unitWord(name: string): string | undefined {
  const f = fold(
    name
      .normalize('NFC')
      .toLowerCase()
      .replace(/[.,_/\\|-]+/g, ' ')
      .trim(),
  );
  const w = UNIT_WORDS.find((w) => f.startsWith(`${w} `) && f.length > w.length + 1);
  return w === undefined ? undefined : (ABBREVIATIONS[w] ?? w);
}

function stripUnitWord(s: string, folder: (s: string) => string): string {
  const f = folder(s);
  for (const w of UNIT_WORDS) {
    // A name that is only the word is left alone.
    if (f.startsWith(`${w} `) && f.length > w.length + 1) {
      // Folding keeps one character per base letter, so the prefix length carries over.
      return s.slice(w.length + 1).trim();
    }
  }
  return s;
}

export type AreaNameResult =
  { readonly ok: true; readonly unit: AreaUnit } | { readonly ok: false; readonly reason: string };

/**
 * Finds the unit a source means by a name, in one boundary set: a province name alone, or a
 * unit with its parents after commas ("Xã Gia Hòa, Gia Viễn, Ninh Bình"), in any case, with
 * or without diacritics, composed or decomposed. An exact (diacritics-aware) match wins over
 * a folded one; a name that still fits several units is an error that lists them.
 */
export class AreaNames {
  private readonly exact = new Map<string, AreaUnit[]>();
  private readonly folded = new Map<string, AreaUnit[]>();

  constructor(
    private readonly units: AdminUnits,
    readonly bs: BoundarySet,
  ) {
    for (const u of units.all(bs)) {
      push(this.exact, exactName(u.name), u);
      push(this.folded, foldedName(u.name), u);
    }
  }

  /** `hint`: look for the closest names when none fits (a scan of every name: ask sparingly). */
  resolve(name: string, hint = true): AreaNameResult {
    const parts = name
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p.length > 0);
    if (parts.length === 0) return { ok: false, reason: 'the area name is empty' };
    const fits = (u: AreaUnit): boolean => {
      const chain = this.units.selfAndAncestors(this.bs, u.code).slice(1);
      // Each further part must name an ancestor, in order, skipping levels is allowed.
      let at = 0;
      for (const part of parts.slice(1)) {
        const e = exactName(part);
        const f = foldedName(part);
        const i = chain.findIndex(
          (a, j) => j >= at && (exactName(a.name) === e || foldedName(a.name) === f),
        );
        if (i < 0) return false;
        at = i + 1;
      }
      return true;
    };
    const head = parts[0]!;
    for (const candidates of [
      this.exact.get(exactName(head)) ?? [],
      this.folded.get(foldedName(head)) ?? [],
    ]) {
      let matching = candidates.filter(fits);
      if (matching.length === 0) continue;
      // "Huyện Gia Viễn" is the district, not "Xã Gia Viễn" elsewhere.
      const word = unitWord(head);
      const sameKind = matching.filter((u) => unitWord(u.name) === word);
      if (word && sameKind.length > 0) matching = sameKind;
      // A province name also names nothing else worth choosing over it ("Hà Nội").
      const provinces = matching.filter((u) => u.level === 'province');
      const pick = provinces.length === 1 ? provinces : matching;
      if (pick.length === 1) return { ok: true, unit: pick[0]! };
      return {
        ok: false,
        reason: `area "${name}" names ${pick.length} units: ${pick
          .slice(0, 5)
          .map((u) => `${this.describe(u)} (${u.code})`)
          .join(
            '; ',
          )}${pick.length > 5 ? '; ...' : ''}. Add the district or province after a comma, or send the code`,
      };
    }
    return {
      ok: false,
      reason: `area "${name}" is not the name of a unit in the ${this.bs === '2008' ? '63-province' : '34-province'} lists${hint ? this.closest(head) : ''}`,
    };
  }

  /** "Xã Gia Hòa, Huyện Gia Viễn, Ninh Bình". */
  describe(u: AreaUnit): string {
    return this.units
      .selfAndAncestors(this.bs, u.code)
      .map((a) => a.name)
      .join(', ');
  }

  private closest(name: string): string {
    const f = foldedName(name);
    // No unit's name is this long: comparing it to every name would cost seconds.
    if (f.length > MAX_HINTED_NAME) return '';
    const scored: [string, number][] = [];
    for (const [k, us] of this.folded) {
      const d = editDistance(f, k);
      if (d <= Math.max(2, f.length / 3)) for (const u of us) scored.push([this.describe(u), d]);
    }
    scored.sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]));
    const names = [...new Set(scored.map(([n]) => n))].slice(0, 3);
    return names.length ? `; closest: ${names.map((n) => `"${n}"`).join(', ')}` : '';
  }
}

const MAX_HINTED_NAME = 64;

function push(m: Map<string, AreaUnit[]>, k: string, u: AreaUnit): void {
  const list = m.get(k);
  if (list) list.push(u);
  else m.set(k, [u]);
}

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}
