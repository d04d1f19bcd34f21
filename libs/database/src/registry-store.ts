import {
  type MappingProfile,
  type SourceKind,
  type SourceRegistration,
  SourceRegistry,
} from '@app/catalogue';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DataSource, QueryRunner } from 'typeorm';
import { returned } from './sql.js';

type Db = DataSource | QueryRunner;

interface SourceRow {
  id: string;
  kind: SourceKind;
  display_name: string;
  measures: string[];
  areas: string[] | null;
  expects: string[] | null;
  reports_every: SourceRegistration['reports']['every'];
  due_days: number;
  active: boolean;
  mapping: MappingProfile | null;
  created_at: Date;
  updated_at: Date;
}

export interface StoredSource extends SourceRegistration {
  readonly createdAt: string;
  readonly updatedAt: string;
}

const toRegistration = (r: SourceRow): StoredSource => ({
  id: r.id,
  kind: r.kind,
  displayName: r.display_name,
  measures: r.measures,
  areas: r.areas ?? '*',
  ...(r.expects ? { expects: r.expects } : {}),
  active: r.active,
  ...(r.mapping ? { mapping: r.mapping } : {}),
  reports: { every: r.reports_every, dueDays: r.due_days },
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

export type SourcePatch = Partial<Omit<SourceRegistration, 'id' | 'mapping'>> & {
  /** `null` removes the profile. */
  readonly mapping?: MappingProfile | null;
};

/** An API key as the owner sees it once: `lgsk_<keyId>_<secret>`. Only a hash is stored. */
export interface IssuedKey {
  readonly keyId: string;
  readonly sourceId: string;
  readonly key: string;
}

export type KeyCheck =
  | { readonly ok: true; readonly sourceId: string; readonly keyId: string }
  | { readonly ok: false; readonly reason: string };

const KEY_PATTERN = /^lgsk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * The source registry in Postgres: registrations, mapping profiles and API keys. Keys are
 * 256-bit random secrets, so a SHA-256 of each is stored, not a slow password hash (ADR 0006).
 */
export class RegistryStore {
  async load(db: Db): Promise<SourceRegistry> {
    return new SourceRegistry(await this.list(db));
  }

  async list(db: Db): Promise<StoredSource[]> {
    const rows: SourceRow[] = await db.query(`SELECT * FROM source ORDER BY id`);
    return rows.map(toRegistration);
  }

  async get(db: Db, id: string): Promise<StoredSource | undefined> {
    const rows: SourceRow[] = await db.query(`SELECT * FROM source WHERE id = $1`, [id]);
    return rows[0] ? toRegistration(rows[0]) : undefined;
  }

  /** Inserts a new source; false when the id is taken. */
  async create(db: Db, s: SourceRegistration): Promise<boolean> {
    const rows: unknown[] = await db.query(
      `INSERT INTO source (id, kind, display_name, measures, areas, expects, reports_every,
                           due_days, active, mapping)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [
        s.id,
        s.kind,
        s.displayName,
        s.measures,
        s.areas === '*' ? null : s.areas,
        s.expects ?? null,
        s.reports.every,
        s.reports.dueDays,
        s.active,
        s.mapping ? JSON.stringify(s.mapping) : null,
      ],
    );
    return rows.length === 1;
  }

  /** Changes the given fields; `mapping: null` removes the profile. False for an unknown id. */
  async update(db: Db, id: string, patch: SourcePatch): Promise<boolean> {
    const sets: string[] = [];
    const args: unknown[] = [id];
    const set = (column: string, value: unknown): void => {
      args.push(value);
      sets.push(`${column} = $${args.length}`);
    };
    if (patch.kind !== undefined) set('kind', patch.kind);
    if (patch.displayName !== undefined) set('display_name', patch.displayName);
    if (patch.measures !== undefined) set('measures', patch.measures);
    if (patch.areas !== undefined) set('areas', patch.areas === '*' ? null : patch.areas);
    if (patch.expects !== undefined) set('expects', patch.expects);
    if (patch.reports !== undefined) {
      set('reports_every', patch.reports.every);
      set('due_days', patch.reports.dueDays);
    }
    if (patch.active !== undefined) set('active', patch.active);
    if (patch.mapping !== undefined)
      set('mapping', patch.mapping === null ? null : JSON.stringify(patch.mapping));
    const rows = returned(
      await db.query(
        `UPDATE source SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE id = $1 RETURNING id`,
        args,
      ),
    );
    return rows.length === 1;
  }

  async issueKey(db: Db, sourceId: string, label?: string): Promise<IssuedKey> {
    const keyId = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    await db.query(
      `INSERT INTO source_key (id, source_id, secret_sha256, label) VALUES ($1, $2, $3, $4)`,
      [keyId, sourceId, sha256(secret), label ?? null],
    );
    return { keyId, sourceId, key: `lgsk_${keyId}_${secret}` };
  }

  async listKeys(
    db: Db,
    sourceId: string,
  ): Promise<
    { keyId: string; label: string | null; createdAt: string; revokedAt: string | null }[]
  > {
    const rows: { id: string; label: string | null; created_at: Date; revoked_at: Date | null }[] =
      await db.query(
        `SELECT id, label, created_at, revoked_at FROM source_key WHERE source_id = $1
         ORDER BY created_at`,
        [sourceId],
      );
    return rows.map((r) => ({
      keyId: r.id,
      label: r.label,
      createdAt: r.created_at.toISOString(),
      revokedAt: r.revoked_at?.toISOString() ?? null,
    }));
  }

  /** Revokes a key at once; false when the source has no such live key. */
  async revokeKey(db: Db, sourceId: string, keyId: string): Promise<boolean> {
    const rows = returned(
      await db.query(
        `UPDATE source_key SET revoked_at = now()
         WHERE id = $1 AND source_id = $2 AND revoked_at IS NULL RETURNING id`,
        [keyId, sourceId],
      ),
    );
    return rows.length === 1;
  }

  /** Who a presented key belongs to, if it is live. Constant-time on the secret. */
  async authenticate(db: Db, key: string): Promise<KeyCheck> {
    const m = KEY_PATTERN.exec(key);
    if (!m) return { ok: false, reason: 'not a hub API key (lgsk_<id>_<secret>)' };
    const rows: { source_id: string; secret_sha256: Buffer; revoked_at: Date | null }[] =
      await db.query(`SELECT source_id, secret_sha256, revoked_at FROM source_key WHERE id = $1`, [
        m[1],
      ]);
    const row = rows[0];
    if (!row || !timingSafeEqual(row.secret_sha256, sha256(m[2]!)))
      return { ok: false, reason: 'unknown API key' };
    if (row.revoked_at)
      return {
        ok: false,
        reason: `API key ${m[1]} was revoked on ${row.revoked_at.toISOString()}`,
      };
    return { ok: true, sourceId: row.source_id, keyId: m[1]! };
  }
}
