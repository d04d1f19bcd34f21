import { HUB_CONFIG, type HubConfig } from '@app/config';
import { AccessStore, DATA_SOURCE, type Principal, type Role } from '@app/database';
import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
  SetMetadata,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { DataSource } from 'typeorm';

/**
 * What a route needs: a role, or `read` (the read API: any role, or nobody at all unless
 * READ_API_REQUIRES_TOKEN is true).
 */
export type Need = Role | 'read';
const NEED = 'lgsp:need';
export const Needs = (need: Need) => SetMetadata(NEED, need);

/**
 * admin may do everything; ops the DLQ, replays, exchanges and reading; a reader reads; an
 * approver reads and moves its provinces' periods through review and approval (issue 27).
 */
const MAY: Record<Role, readonly Need[]> = {
  admin: ['admin', 'ops', 'reader', 'read', 'approver'],
  ops: ['ops', 'reader', 'read'],
  reader: ['reader', 'read'],
  approver: ['approver', 'reader', 'read'],
};

export interface RequestWithPrincipal {
  headers: Record<string, string | string[] | undefined>;
  principal?: Principal;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * `Authorization: Bearer <token>`: the bootstrap ADMIN_TOKEN (an admin named "ADMIN_TOKEN"),
 * or a named token of `POST /v1/tokens`. The request's principal is kept for the handlers
 * (the provinces a reader may read, the actor of an admin action).
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(
    private readonly access: AccessStore,
    private readonly reflector: Reflector,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const need = this.reflector.getAllAndOverride<Need | undefined>(NEED, [
      ctx.getHandler(),
      ctx.getClass(),
    ]);
    if (!need) return true;
    const req = ctx.switchToHttp().getRequest<RequestWithPrincipal>();
    const header = req.headers.authorization;
    const token =
      typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined;
    if (!token) {
      if (need === 'read' && this.config.READ_API_REQUIRES_TOKEN !== 'true') return true;
      throw new UnauthorizedException(
        `send a token as: Authorization: Bearer <token> (ADMIN_TOKEN, or a named token from POST /v1/tokens with a role that may ${need})`,
      );
    }
    const principal = await this.principal(token);
    if (!MAY[principal.role].includes(need))
      throw new ForbiddenException(
        `token "${principal.name}" has the role ${principal.role}; this needs ${need === 'read' ? 'reader' : need}`,
      );
    req.principal = principal;
    return true;
  }

  private async principal(token: string): Promise<Principal> {
    const admin = this.config.ADMIN_TOKEN;
    if (admin && timingSafeEqual(digest(token), digest(admin)))
      return { name: 'ADMIN_TOKEN', role: 'admin', provinces: null, tokenId: null };
    const r = await this.access.authenticate(this.ds, token);
    if (!r.ok) throw new UnauthorizedException(`${r.reason}: ask an admin for a token`);
    return r.principal;
  }
}
