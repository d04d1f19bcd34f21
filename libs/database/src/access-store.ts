import { createHash, randomBytes } from 'node:crypto';
import type { DataSource, QueryRunner } from 'typeorm';
import { pgJson, pgText } from './pg-safe.js';
import { returned } from './sql.js';

type Db = DataSource | QueryRunner;

export const ROLES = ['admin', 'ops', 'reader', 'approver'] as const;
export type Role = (typeof ROLES)[number];

/** A token as listed: never its secret. */
export interface ApiToken {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  /** For a reader or an approver: the 2025 provinces it may read (approve); null: all. */
  readonly provinces: string[] | null;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  readonly replacedBy: string | null;
  readonly lastUsedAt: string | null;
}

/** Who a request is, once its token is known. */
export interface Principal {
  readonly name: string;
  readonly role: Role;
  readonly provinces: readonly string[] | null;
  readonly tokenId: string | null;
}

export interface AdminAction {
  readonly actor: string;
  readonly action: string;
  readonly target: string | null;
  readonly before?: unknown;
  readonly after?: unknown;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();
/** `lgst_` and 32 random bytes: told apart from source API keys (`lgsk_`) at a glance. */
const newToken = (): string => `lgst_${randomBytes(32).toString('base64url')}`;

/** Named API tokens and the admin action log (migration 1764300000000). */
export class AccessStore {
  async create(
    db: Db,
    t: {
      name: string;
      role: Role;
      provinces: string[] | null;
      expiresAt: Date | null;
      createdBy: string;
    },
  ): Promise<{ token: string; item: ApiToken }> {
    const token = newToken();
    const rows: Record<string, unknown>[] = await db.query(
      `INSERT INTO api_token (name, role, provinces, token_sha256, created_by, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [pgText(t.name), t.role, t.provinces, sha256(token), pgText(t.createdBy), t.expiresAt],
    );
    return { token, item: view(rows[0]!) };
  }

  async list(db: Db): Promise<ApiToken[]> {
    const rows: Record<string, unknown>[] = await db.query(`SELECT * FROM api_token ORDER BY id`);
    return rows.map(view);
  }

  async get(db: Db, id: string): Promise<ApiToken | undefined> {
    const rows: Record<string, unknown>[] = await db.query(
      `SELECT * FROM api_token WHERE id = $1`,
      [id],
    );
    return rows[0] ? view(rows[0]) : undefined;
  }

  /** The principal of a live token, or why there is none. */
  async authenticate(
    db: Db,
    token: string,
  ): Promise<{ ok: true; principal: Principal } | { ok: false; reason: string }> {
    const rows = returned<Record<string, unknown>>(
      await db.query(
        `UPDATE api_token SET last_used_at = now()
          WHERE token_sha256 = $1
          RETURNING *, (expires_at IS NOT NULL AND expires_at <= now()) AS expired`,
        [sha256(token)],
      ),
    );
    const r = rows[0];
    if (!r) return { ok: false, reason: 'unknown token' };
    if (r.revoked_at) return { ok: false, reason: `token "${String(r.name)}" is revoked` };
    if (r.expired) return { ok: false, reason: `token "${String(r.name)}" has expired` };
    const t = view(r);
    return {
      ok: true,
      principal: { name: t.name, role: t.role, provinces: t.provinces, tokenId: t.id },
    };
  }

  /** A new secret under the same name, role and provinces; the old token is revoked. */
  async rotate(
    db: Db,
    id: string,
    by: string,
  ): Promise<{ token: string; item: ApiToken } | undefined> {
    const old = await this.get(db, id);
    if (!old || old.revokedAt) return undefined;
    const fresh = await this.create(db, {
      name: old.name,
      role: old.role,
      provinces: old.provinces,
      expiresAt: old.expiresAt ? new Date(old.expiresAt) : null,
      createdBy: by,
    });
    await db.query(`UPDATE api_token SET revoked_at = now(), replaced_by = $2 WHERE id = $1`, [
      id,
      fresh.item.id,
    ]);
    return fresh;
  }

  async revoke(db: Db, id: string): Promise<boolean> {
    const rows = returned(
      await db.query(
        `UPDATE api_token SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id`,
        [id],
      ),
    );
    return rows.length > 0;
  }

  async recordAction(db: Db, a: AdminAction): Promise<void> {
    await db.query(
      `INSERT INTO admin_action (actor, action, target, before, after) VALUES ($1, $2, $3, $4, $5)`,
      [
        pgText(a.actor),
        a.action,
        a.target === null ? null : pgText(a.target),
        a.before === undefined ? null : pgJson(a.before),
        a.after === undefined ? null : pgJson(a.after),
      ],
    );
  }

  async actions(
    db: Db,
    q: { after?: string; limit?: number; actor?: string; target?: string },
  ): Promise<Record<string, unknown>[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (sql: string, v: unknown): void => {
      args.push(v);
      where.push(sql.replace('?', `$${args.length}`));
    };
    if (q.after) add('id > ?', q.after);
    if (q.actor) add('actor = ?', q.actor);
    if (q.target) add('target = ?', q.target);
    args.push(q.limit ?? 100);
    const rows: Record<string, unknown>[] = await db.query(
      `SELECT id::text, at, actor, action, target, before, after FROM admin_action
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT $${args.length}`,
      args,
    );
    return rows.map((r) => ({ ...r, at: (r.at as Date).toISOString() }));
  }
}

const iso = (d: unknown): string | null => (d ? (d as Date).toISOString() : null);

function view(r: Record<string, unknown>): ApiToken {
  return {
    id: String(r.id),
    name: r.name as string,
    role: r.role as Role,
    provinces: (r.provinces as string[] | null) ?? null,
    createdAt: iso(r.created_at)!,
    createdBy: r.created_by as string,
    expiresAt: iso(r.expires_at),
    revokedAt: iso(r.revoked_at),
    replacedBy: (r.replaced_by as string | null) ?? null,
    lastUsedAt: iso(r.last_used_at),
  };
}
