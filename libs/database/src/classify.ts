import { HubError } from '@app/contract';

/** Postgres errors worth another try: connection loss, serialisation, deadlock, shutdown. */
const TRANSIENT_SQLSTATE = /^(08|40|53|57P)/;

/**
 * A database failure as a coded error, retriable when trying again can help: connection loss
 * and the like. A statement the data makes fail (an invalid value, a constraint) is not, and
 * the consumer then sets the record at fault aside instead of retrying.
 */
export function classify(e: unknown): HubError {
  if (e instanceof HubError) return e;
  const code = (e as { code?: unknown }).code;
  const message = e instanceof Error ? e.message : String(e);
  if (typeof code === 'string' && TRANSIENT_SQLSTATE.test(code))
    return new HubError('DB_TRANSIENT', `database: ${message}`, true, { cause: e });
  if (typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE)$/.test(code))
    return new HubError('DB_UNREACHABLE', `database unreachable: ${message}`, true, { cause: e });
  if (/Connection terminated|timeout/i.test(message))
    return new HubError('DB_UNREACHABLE', `database: ${message}`, true, { cause: e });
  return new HubError('APPLY_FAILED', message, false, { cause: e });
}
