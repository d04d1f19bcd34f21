import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { lastDay, type Period } from './period.js';

/**
 * Vietnam's administrative units in the two boundary sets the contract knows:
 * `2008` (63 provinces, districts, communes; periods ending before 2025-07-01) and
 * `2025` (34 provinces, communes, no districts; periods ending on or after 2025-07-01).
 * A code never identifies a unit without its boundary set: codes were reused in 2025.
 */
export type BoundarySet = '2008' | '2025';
export type AreaLevel = 'province' | 'district' | 'commune';

export const REFORM_DATE = '2025-07-01';

export function boundarySetOf(p: Period): BoundarySet {
  return lastDay(p) < REFORM_DATE ? '2008' : '2025';
}

export function levelOfCode(code: string): AreaLevel | undefined {
  if (!/^\d+$/.test(code)) return undefined;
  return code.length === 2
    ? 'province'
    : code.length === 3
      ? 'district'
      : code.length === 5
        ? 'commune'
        : undefined;
}

export interface AreaUnit {
  readonly bs: BoundarySet;
  readonly code: string;
  readonly name: string;
  readonly level: AreaLevel;
  /** The enclosing unit's code in the same boundary set (none for a province). */
  readonly parent?: string;
  /** The province's code in the same boundary set (itself for a province). */
  readonly province: string;
}

/** A node of the area graph: a unit of one boundary set, `"2008:37"`. */
export type AreaKey = `${BoundarySet}:${string}`;
export const areaKey = (bs: BoundarySet, code: string): AreaKey => `${bs}:${code}`;

function readCsv(file: string): Record<string, string>[] {
  // The crosswalk's notes hold quoted commas.
  return parse(readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true });
}

/**
 * How a 2025 commune re-bases onto the 2008 lists (commune-crosswalk-2025.csv): the old
 * communes it was formed from, and those of them that were split (only part went into it).
 * It re-bases exactly when it was formed from whole old communes only.
 */
export interface CommuneOrigin {
  /** The old communes (2008 codes) that went into it, whole or in part. */
  readonly from: readonly string[];
  /** Those that went in only in part (or are not in the 2008 lists): "00016 Phường Ngọc Hà". */
  readonly split: readonly string[];
}

export class AdminUnits {
  private readonly units = new Map<AreaKey, AreaUnit>();
  /** old (2008) province code -> new (2025) province code; every old province went whole. */
  private readonly provinceCrosswalk = new Map<string, string>();
  private readonly oldByNew = new Map<string, string[]>();
  private readonly communeOrigins = new Map<string, CommuneOrigin>();
  private readonly communesInto = new Map<string, string[]>();

  private constructor() {}

  /** Reads the CSV lists of `data/admin-units/` (see SOURCE.md there). */
  static load(dir: string): AdminUnits {
    const au = new AdminUnits();
    for (const r of readCsv(join(dir, 'provinces-2008.csv')))
      au.add({ bs: '2008', code: r.code!, name: r.name!, level: 'province', province: r.code! });
    for (const r of readCsv(join(dir, 'districts-2008.csv')))
      au.add({
        bs: '2008',
        code: r.code!,
        name: r.name!,
        level: 'district',
        parent: r.province_code!,
        province: r.province_code!,
      });
    for (const r of readCsv(join(dir, 'communes-2008.csv')))
      au.add({
        bs: '2008',
        code: r.code!,
        name: r.name!,
        level: 'commune',
        parent: r.district_code!,
        province: r.province_code!,
      });
    for (const r of readCsv(join(dir, 'provinces-2025.csv')))
      au.add({ bs: '2025', code: r.code!, name: r.name!, level: 'province', province: r.code! });
    for (const r of readCsv(join(dir, 'communes-2025.csv')))
      au.add({
        bs: '2025',
        code: r.code!,
        name: r.name!,
        level: 'commune',
        parent: r.province_code!,
        province: r.province_code!,
      });
    au.loadCommuneCrosswalk(readCsv(join(dir, 'commune-crosswalk-2025.csv')));
    for (const r of readCsv(join(dir, 'province-crosswalk-2025.csv'))) {
      au.provinceCrosswalk.set(r.old_code!, r.new_code!);
      const olds = au.oldByNew.get(r.new_code!) ?? [];
      olds.push(r.old_code!);
      au.oldByNew.set(r.new_code!, olds);
    }
    return au;
  }

  /**
   * A row whose old commune is not in the 2008 lists (no code, or a unit formed between the
   * lists' date and the reform) counts as split: nothing reported for it can be re-based.
   * An old commune that went whole into more than one new one (three rows) counts as split too.
   */
  private loadCommuneCrosswalk(rows: Record<string, string>[]): void {
    const wholeTargets = new Map<string, number>();
    for (const r of rows)
      if (r.merge_type === 'whole')
        wholeTargets.set(r.old_commune_code!, (wholeTargets.get(r.old_commune_code!) ?? 0) + 1);
    const acc = new Map<string, { from: string[]; split: string[] }>();
    for (const r of rows) {
      const code = r.candidate_old_code_in_communes_2008 || r.old_commune_code!;
      const known = code !== '' && this.get('2008', code)?.level === 'commune';
      const o = acc.get(r.new_commune_code!) ?? { from: [], split: [] };
      acc.set(r.new_commune_code!, o);
      if (known && !o.from.includes(code)) o.from.push(code);
      if (!known || r.merge_type !== 'whole' || wholeTargets.get(r.old_commune_code!)! > 1)
        o.split.push(`${r.old_commune_code || r.old_district_code} ${r.old_commune_name}`.trim());
    }
    for (const [code, o] of acc) {
      this.communeOrigins.set(code, { from: o.from.sort(), split: [...new Set(o.split)].sort() });
      for (const old of o.from) {
        const into = this.communesInto.get(old);
        if (into) into.push(code);
        else this.communesInto.set(old, [code]);
      }
    }
  }

  /** The 2025 communes a 2008 commune went into, whole or in part. */
  newCommunesOf(oldCommune: string): readonly string[] {
    return this.communesInto.get(oldCommune) ?? [];
  }

  /** How a 2025 commune re-bases (undefined: not a 2025 commune of the crosswalk). */
  communeOrigin(newCommune: string): CommuneOrigin | undefined {
    return this.communeOrigins.get(newCommune);
  }

  private add(u: AreaUnit): void {
    this.units.set(areaKey(u.bs, u.code), u);
  }

  get(bs: BoundarySet, code: string): AreaUnit | undefined {
    return this.units.get(areaKey(bs, code));
  }

  count(bs: BoundarySet, level: AreaLevel): number {
    let n = 0;
    for (const u of this.units.values()) if (u.bs === bs && u.level === level) n++;
    return n;
  }

  all(bs?: BoundarySet): AreaUnit[] {
    return [...this.units.values()].filter((u) => bs === undefined || u.bs === bs);
  }

  /** The unit and every unit enclosing it, in its own boundary set, innermost first. */
  selfAndAncestors(bs: BoundarySet, code: string): AreaUnit[] {
    const out: AreaUnit[] = [];
    for (let u = this.get(bs, code); u; u = u.parent ? this.get(bs, u.parent) : undefined)
      out.push(u);
    return out;
  }

  /** The 2025 province that a 2008 province became (all 63 went whole into one). */
  newProvinceOf(oldProvince: string): string | undefined {
    return this.provinceCrosswalk.get(oldProvince);
  }

  /**
   * The aggregation group of a unit: the 2025 province it lies in, or the one its 2008
   * province became. Everything a KPI key reads lies within one group.
   */
  groupOf(bs: BoundarySet, code: string): string | undefined {
    const u = this.get(bs, code);
    if (!u) return undefined;
    return bs === '2025' ? u.province : this.newProvinceOf(u.province);
  }

  /** The 2008 provinces that formed a 2025 province. */
  oldProvincesOf(newProvince: string): string[] {
    return this.oldByNew.get(newProvince) ?? [];
  }

  /**
   * The parent of a node in the area graph used for roll-ups. Within a boundary set it is the
   * enclosing unit; a 2008 province also rolls up into the 2025 province it became, which is
   * how January-June 2025 figures reach the 2025 year.
   */
  parentsForRollup(bs: BoundarySet, code: string): AreaKey[] {
    const u = this.get(bs, code);
    if (!u) return [];
    if (u.parent) return [areaKey(bs, u.parent)];
    if (bs === '2008' && u.level === 'province') {
      const n = this.newProvinceOf(code);
      return n ? [areaKey('2025', n)] : [];
    }
    return [];
  }
}
