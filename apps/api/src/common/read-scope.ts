import { type AdminUnits, boundarySetOf, type BoundarySet, parsePeriod } from '@app/catalogue';
import { ForbiddenException } from '@nestjs/common';
import type { RequestWithPrincipal } from './roles.guard.js';

/**
 * What a reader limited to some provinces may read: the units of those 2025 provinces' groups
 * in both boundary sets (a 2025 province and the 2008 provinces that went into it), so that
 * its history before the reform is in scope too. `null`: everything.
 */
export interface ReadScope {
  readonly provinces: readonly string[];
  /** Parallel arrays, for SQL's unnest: the (boundary set, area) pairs in scope. */
  readonly bs: string[];
  readonly area: string[];
  has(bs: BoundarySet, area: string): boolean;
  /** By a KPI's unit: its areaSet (before v1.1 events: its period's) and area. */
  covers(e: { period: string; area: string; areaSet?: BoundarySet }): boolean;
}

const cache = new Map<string, ReadScope>();

export function readScope(units: AdminUnits, req: RequestWithPrincipal): ReadScope | null {
  const provinces = req.principal?.provinces;
  if (!provinces) return null;
  const key = [...provinces].sort().join(',');
  let scope = cache.get(key);
  if (scope) return scope;
  const wanted = new Set(provinces);
  const pairs = new Set<string>();
  const bs: string[] = [];
  const area: string[] = [];
  for (const set of ['2008', '2025'] as const)
    for (const u of units.all(set)) {
      const group = units.groupOf(set, u.code);
      if (group === undefined || !wanted.has(group)) continue;
      pairs.add(`${set}|${u.code}`);
      bs.push(set);
      area.push(u.code);
    }
  const has = (s: BoundarySet, a: string): boolean => pairs.has(`${s}|${a}`);
  scope = {
    provinces: [...provinces],
    bs,
    area,
    has,
    covers: (e) => {
      if (e.areaSet) return has(e.areaSet, e.area);
      const p = parsePeriod(e.period);
      return p !== undefined && has(boundarySetOf(p), e.area);
    },
  };
  cache.set(key, scope);
  return scope;
}

/** 403 unless the reader may read this area in this boundary set. */
export function mustCover(scope: ReadScope | null, bs: BoundarySet, area: string): void {
  if (scope && !scope.has(bs, area))
    throw new ForbiddenException(
      `this token may read provinces ${scope.provinces.join(', ')} (their 2025 units and the 2008 units that went into them), not area ${area} of the ${bs} lists`,
    );
}
