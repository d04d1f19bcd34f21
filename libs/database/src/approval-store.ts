import type { Approval, ApprovalState, KpiFigure } from '@app/contract';
import type { DataSource, QueryRunner } from 'typeorm';
import { pgJson, pgText } from './pg-safe.js';
import { valuesChunks } from './sql.js';

type Db = DataSource | QueryRunner;

/** A (boundary set, province, period)'s approval as stored. */
export interface ApprovalRow {
  readonly bs: '2008' | '2025';
  readonly area: string;
  readonly period: string;
  /** The aggregation group (2025 province) the province is in. */
  readonly grp: string;
  readonly state: ApprovalState;
  /** The period the move was made on (this one, or a larger one it is part of). */
  readonly via: string;
  readonly by: string;
  readonly at: string;
  readonly reason: string | null;
}

/** A key's official figure: the one its period was approved with. */
export interface OfficialRow {
  readonly bs: '2008' | '2025';
  readonly area: string;
  readonly period: string;
  readonly kpi: string;
  readonly revision: number;
  readonly figure: KpiFigure;
}

/** What an event carries of a stored approval. */
export const approvalOf = (r: ApprovalRow): Approval => ({
  state: r.state,
  by: r.by,
  at: r.at,
  ...(r.via !== r.period ? { period: r.via } : {}),
  ...(r.reason ? { reason: r.reason } : {}),
});

export const approvalKey = (bs: string, province: string, period: string): string =>
  `${bs}|${province}|${period}`;
export const officialKey = (bs: string, area: string, period: string, kpi: string): string =>
  `${bs}|${area}|${period}|${kpi}`;

const COLUMNS = `bs, area, period, grp, state, via, moved_by AS "by",
  to_char(moved_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "at", reason`;

/**
 * Approvals (issue 27): the API moves them, under the group's row lock, and the aggregator
 * reads its group's when it publishes (the same lock), so an event never says a state its
 * period was not in when it was written.
 */
export class ApprovalStore {
  /** The approvals of one group's provinces: what its events must say. */
  async forGroup(db: Db, grp: string): Promise<ApprovalRow[]> {
    return db.query(`SELECT ${COLUMNS} FROM approval WHERE grp = $1`, [grp]);
  }

  /** Some periods of a province; with `lock`, their rows are locked for a move. */
  async periods(
    db: Db,
    bs: string,
    area: string,
    periods: readonly string[],
    lock = false,
  ): Promise<ApprovalRow[]> {
    return db.query(
      `SELECT ${COLUMNS} FROM approval WHERE bs = $1 AND area = $2 AND period = ANY($3::text[])
        ORDER BY period${lock ? ' FOR UPDATE' : ''}`,
      [bs, area, [...periods]],
    );
  }

  /** Approvals in some groups (all: null), newest move first. */
  async list(
    db: Db,
    q: {
      bs?: string;
      area?: string;
      period?: string;
      groups: readonly string[] | null;
      limit: number;
    },
  ): Promise<ApprovalRow[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (sql: string, v: unknown): void => {
      args.push(v);
      where.push(sql.replace('?', `$${args.length}`));
    };
    if (q.bs) add('bs = ?', q.bs);
    if (q.area) add('area = ?', q.area);
    if (q.period) add('period = ?', q.period);
    if (q.groups) add('grp = ANY(?::text[])', [...q.groups]);
    return db.query(
      `SELECT ${COLUMNS} FROM approval ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY moved_at DESC, bs, area, period LIMIT ${Math.floor(q.limit)}`,
      args,
    );
  }

  async save(q: QueryRunner, rows: readonly ApprovalRow[]): Promise<void> {
    for (const c of valuesChunks(rows, 9, (r) => [
      r.bs,
      r.area,
      r.period,
      r.grp,
      r.state,
      r.via,
      pgText(r.by),
      r.at,
      r.reason === null ? null : pgText(r.reason),
    ]))
      await q.query(
        `INSERT INTO approval (bs, area, period, grp, state, via, moved_by, moved_at, reason)
         VALUES ${c.sql}
         ON CONFLICT (bs, area, period) DO UPDATE SET state = excluded.state, via = excluded.via,
           moved_by = excluded.moved_by, moved_at = excluded.moved_at, reason = excluded.reason`,
        c.params,
      );
  }

  /** The official figures of these keys (those that have one), by `officialKey`. */
  async officialFigures(
    db: Db,
    keys: readonly { bs: string; area: string; period: string; kpi: string }[],
  ): Promise<Map<string, KpiFigure>> {
    const rows: OfficialRow[] = await db.query(
      `SELECT o.bs, o.area, o.period, o.kpi, o.revision, o.figure FROM kpi_official o
         JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS k (bs, area, period, kpi)
           USING (bs, area, period, kpi)`,
      [
        keys.map((k) => k.bs),
        keys.map((k) => k.area),
        keys.map((k) => k.period),
        keys.map((k) => k.kpi),
      ],
    );
    return new Map(rows.map((r) => [officialKey(r.bs, r.area, r.period, r.kpi), r.figure]));
  }

  /** Makes these figures official, replacing what the periods had. */
  async setOfficial(q: QueryRunner, grp: string, rows: readonly OfficialRow[]): Promise<void> {
    for (const c of valuesChunks(rows, 7, (r) => [
      r.bs,
      r.area,
      r.period,
      r.kpi,
      grp,
      r.revision,
      pgJson(r.figure),
    ]))
      await q.query(
        `INSERT INTO kpi_official (bs, area, period, kpi, grp, revision, figure) VALUES ${c.sql}
         ON CONFLICT (bs, area, period, kpi) DO UPDATE
           SET revision = excluded.revision, figure = excluded.figure`,
        c.params,
      );
  }

  /** Drops the official figures of these units' periods (a re-opened period has none). */
  async clearOfficial(
    q: QueryRunner,
    bs: string,
    areas: readonly string[],
    periods: readonly string[],
  ): Promise<void> {
    await q.query(
      `DELETE FROM kpi_official WHERE bs = $1 AND area = ANY($2::text[]) AND period = ANY($3::text[])`,
      [bs, [...areas], [...periods]],
    );
  }

  /** Tells the aggregator holding the group that its keys' revisions moved on. */
  async bumpGroup(q: QueryRunner, grp: string): Promise<void> {
    await q.query(`UPDATE aggregation_group SET approval_seq = approval_seq + 1 WHERE grp = $1`, [
      grp,
    ]);
  }
}
