import { AccessStore, DATA_SOURCE } from '@app/database';
import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { RequestWithPrincipal } from '../common/roles.guard.js';

/**
 * The log of admin actions (issue 24): who (the token's name), what, on what, when, and the
 * state before and after. Secrets never go in: a key or token is logged by its id and label.
 */
@Injectable()
export class AdminLog {
  constructor(
    private readonly store: AccessStore,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
  ) {}

  async record(
    req: RequestWithPrincipal,
    action: string,
    target: string | null,
    change: { before?: unknown; after?: unknown },
  ): Promise<void> {
    await this.store.recordAction(this.ds, {
      actor: req.principal?.name ?? 'anonymous',
      action,
      target,
      ...change,
    });
  }
}
