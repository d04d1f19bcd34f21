/**
 * The units of one aggregation group as dense indexes. A group is a 2025 province together
 * with the 2008 provinces that went into it (all 63 went whole into one): every observation
 * a KPI key can read lies within one group, so a group's state lives in one place.
 */
import type { AdminUnits, AreaLevel, BoundarySet } from '@app/catalogue';

export const LEVEL = { commune: 0, district: 1, province: 2, virtual: 3 } as const;
const LEVEL_OF: Record<AreaLevel, number> = LEVEL;

/** One boundary set's units of a group, numbered bottom-up: communes, districts, provinces. */
export interface UnitLayout {
  readonly bs: BoundarySet;
  readonly size: number;
  /**
   * The units a source can report: all but the virtual nodes, which sort last. Observation
   * blocks hold these only.
   */
  readonly reportable: number;
  readonly codes: readonly string[];
  readonly level: Uint8Array;
  /** The enclosing unit in the same boundary set, or -1. */
  readonly parent: Int32Array;
  /** Children for roll-ups: `childList[childStart[i] .. childStart[i + 1])`. */
  readonly childStart: Int32Array;
  readonly childList: Int32Array;
  /** The code of each node's province in this boundary set (the group's, for the virtual node). */
  readonly provinceCode: readonly string[];
  readonly indexOf: ReadonlyMap<string, number>;
}

export interface GroupLayout {
  /** The 2025 province code. */
  readonly code: string;
  /**
   * The 2008 units, plus a last, virtual node: the 2025 province seen from 2008-era periods,
   * whose children are the old provinces. January to June 2025 reach the year 2025 through it,
   * and so do 2025-era keys that fall back on an older population.
   */
  readonly u2008: UnitLayout;
  readonly u2025: UnitLayout;
  /** Index of the virtual node in `u2008`. */
  readonly virtual2008: number;
  /** Index of the province itself in `u2025`. */
  readonly province2025: number;
  /**
   * The virtual nodes of `u2008` by index: the province (`virtual2008`) and each 2025 commune,
   * whose keys are the re-based history (contract v1.1).
   */
  readonly rebased: ReadonlyMap<number, RebasedUnit>;
  /** By 2008 unit index: the virtual nodes of the 2025 communes it went into (communes only). */
  readonly rebasedInto: readonly (readonly number[] | undefined)[];
}

export const unitsOf = (g: GroupLayout, bs: BoundarySet): UnitLayout =>
  bs === '2008' ? g.u2008 : g.u2025;

/** A boundary set as an index: 0 for 2008, 1 for 2025. */
export const bsIndex = (bs: BoundarySet): 0 | 1 => (bs === '2008' ? 0 : 1);

interface RawUnit {
  readonly code: string;
  readonly level: number;
  readonly parent?: string;
  readonly province: string;
  /** Virtual nodes it also rolls up into (a 2008 commune: the 2025 communes it went into). */
  readonly also?: readonly string[];
}

/** A virtual node of the 2008 lists: a 2025 unit seen from periods before the reform. */
export interface RebasedUnit {
  /** Its code in the 2025 lists. */
  readonly code: string;
  /** LEVEL.province or LEVEL.commune. */
  readonly level: number;
  /** The 2008 units it is formed from (its children), in code order. */
  readonly from: readonly string[];
  /** Old communes that went into it only in part: it has no re-based figures (see AdminUnits). */
  readonly split: readonly string[];
  /** The 2008 provinces of `from` (whose sources are expected). */
  readonly provinces: readonly string[];
}

function build(bs: BoundarySet, raw: RawUnit[]): UnitLayout {
  const sorted = [...raw].sort((a, b) => a.level - b.level || (a.code < b.code ? -1 : 1));
  const indexOf = new Map(sorted.map((u, i) => [u.code, i]));
  const n = sorted.length;
  const level = new Uint8Array(n);
  const parent = new Int32Array(n).fill(-1);
  // Roll-up edges (child, parent): the enclosing unit, and any virtual node it also feeds.
  const edges: [number, number][] = [];
  sorted.forEach((u, i) => {
    level[i] = u.level;
    const p = u.parent !== undefined ? indexOf.get(u.parent) : undefined;
    if (p !== undefined) {
      edges.push([i, p]);
      if (u.level !== LEVEL.province) parent[i] = p;
    }
    for (const a of u.also ?? []) {
      const v = indexOf.get(a);
      if (v !== undefined) edges.push([i, v]);
    }
  });
  const counts = new Int32Array(n + 1);
  for (const [, p] of edges) counts[p + 1]!++;
  for (let i = 0; i < n; i++) counts[i + 1]! += counts[i]!;
  const childStart = counts.slice();
  const fill = counts.slice(0, n);
  const childList = new Int32Array(counts[n]!);
  for (const [c, p] of edges) childList[fill[p]!++] = c;
  let reportable = n;
  while (reportable > 0 && level[reportable - 1] === LEVEL.virtual) reportable--;
  return {
    bs,
    size: n,
    reportable,
    codes: sorted.map((u) => u.code),
    level,
    parent,
    childStart,
    childList,
    provinceCode: sorted.map((u) => u.province),
    indexOf,
  };
}

/** The code of a 2025 unit's virtual node in the 2008 lists. */
const virtualCode = (code: string): string => `=${code}`;

/** Every group of the admin-unit lists, built once; `groupOf` places a unit in its group. */
export class GroupLayouts {
  private readonly groups = new Map<string, GroupLayout>();

  constructor(readonly units: AdminUnits) {
    const raw2008 = new Map<string, RawUnit[]>();
    const raw2025 = new Map<string, RawUnit[]>();
    const push = (m: Map<string, RawUnit[]>, g: string, u: RawUnit): void => {
      const list = m.get(g);
      if (list) list.push(u);
      else m.set(g, [u]);
    };
    for (const u of units.all('2025'))
      push(raw2025, u.province, {
        code: u.code,
        level: LEVEL_OF[u.level],
        ...(u.parent !== undefined ? { parent: u.parent } : {}),
        province: u.province,
      });
    // Each 2025 commune formed from old communes, and the old communes that went into it.
    const into = new Map<string, string[]>();
    const virtualCommunes = new Map<string, RawUnit[]>();
    for (const u of units.all('2025')) {
      const origin = u.level === 'commune' ? units.communeOrigin(u.code) : undefined;
      if (!origin) continue;
      push(virtualCommunes, u.province, {
        code: virtualCode(u.code),
        level: LEVEL.virtual,
        province: u.province,
      });
      for (const old of origin.from) {
        const list = into.get(old);
        if (list) list.push(virtualCode(u.code));
        else into.set(old, [virtualCode(u.code)]);
      }
    }
    for (const u of units.all('2008')) {
      const g = units.newProvinceOf(u.province);
      if (g === undefined)
        throw new Error(`2008 province ${u.province} has no 2025 successor in the crosswalk`);
      const also = u.level === 'commune' ? into.get(u.code) : undefined;
      push(raw2008, g, {
        code: u.code,
        level: LEVEL_OF[u.level],
        // Old provinces roll up into the virtual node of their 2025 province.
        parent: u.parent ?? virtualCode(g),
        province: u.province,
        ...(also ? { also } : {}),
      });
    }
    for (const [g, list] of raw2025) {
      const old = raw2008.get(g) ?? [];
      const u2008 = build('2008', [
        ...old,
        { code: virtualCode(g), level: LEVEL.virtual, province: g },
        ...(virtualCommunes.get(g) ?? []),
      ]);
      const u2025 = build('2025', list);
      const virtual2008 = u2008.indexOf.get(virtualCode(g))!;
      const childrenOf = (v: number): string[] =>
        Array.from(
          u2008.childList.slice(u2008.childStart[v], u2008.childStart[v + 1]),
          (i) => u2008.codes[i]!,
        ).sort();
      const rebased = new Map<number, RebasedUnit>();
      const rebasedInto: (number[] | undefined)[] = new Array<number[] | undefined>(u2008.size);
      for (let v = 0; v < u2008.size; v++) {
        if (u2008.level[v] !== LEVEL.virtual) continue;
        const code = u2008.codes[v]!.slice(1);
        const province = v === virtual2008;
        const from = childrenOf(v);
        rebased.set(v, {
          code,
          level: province ? LEVEL.province : LEVEL.commune,
          from,
          split: province ? [] : (units.communeOrigin(code)?.split ?? []),
          provinces: province
            ? from
            : [...new Set(from.map((c) => u2008.provinceCode[u2008.indexOf.get(c)!]!))].sort(),
        });
        if (!province)
          for (let c = u2008.childStart[v]!; c < u2008.childStart[v + 1]!; c++) {
            const old = u2008.childList[c]!;
            (rebasedInto[old] ??= []).push(v);
          }
      }
      this.groups.set(g, {
        code: g,
        u2008,
        u2025,
        virtual2008,
        province2025: u2025.indexOf.get(g)!,
        rebased,
        rebasedInto,
      });
    }
  }

  get(group: string): GroupLayout {
    const g = this.groups.get(group);
    if (!g) throw new Error(`no aggregation group ${group}`);
    return g;
  }

  codes(): string[] {
    return [...this.groups.keys()].sort();
  }
}
