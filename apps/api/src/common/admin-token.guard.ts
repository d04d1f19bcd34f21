import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { HUB_CONFIG, type HubConfig } from '@app/config';
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** `Authorization: Bearer <ADMIN_TOKEN>`; the admin API is off when ADMIN_TOKEN is unset. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  constructor(@Inject(HUB_CONFIG) private readonly config: HubConfig) {}

  canActivate(ctx: ExecutionContext): boolean {
    const expected = this.config.ADMIN_TOKEN;
    if (!expected)
      throw new ForbiddenException('the admin API is disabled: start the api with ADMIN_TOKEN set');
    const header = ctx.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>()
      .headers.authorization;
    const given = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    if (!given || !timingSafeEqual(digest(given), digest(expected)))
      throw new UnauthorizedException(
        'send the admin token as: Authorization: Bearer <ADMIN_TOKEN>',
      );
    return true;
  }
}
