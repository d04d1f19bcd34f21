import type { LoggerService } from '@nestjs/common';
import { pino, type Logger } from 'pino';

type NestLevel = 'error' | 'warn' | 'log' | 'debug' | 'verbose';

/**
 * Nest's logger interface over pino: one JSON line per entry. An object message is spread into
 * the line, so `log.warn({ message, topic, partition, offset, source, feedId })` gives fields.
 */
export class PinoNestLogger implements LoggerService {
  readonly pino: Logger;

  constructor(service: string, level: NestLevel) {
    this.pino = pino({
      name: service,
      level: level === 'log' ? 'info' : level === 'verbose' ? 'trace' : level,
      base: { service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    });
  }

  private write(
    level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace',
    message: unknown,
    rest: unknown[],
  ): void {
    const context = typeof rest.at(-1) === 'string' ? (rest.at(-1) as string) : undefined;
    if (message && typeof message === 'object' && !(message instanceof Error)) {
      const { message: msg, ...fields } = message as Record<string, unknown>;
      this.pino[level]({ context, ...fields }, typeof msg === 'string' ? msg : '');
    } else if (message instanceof Error) {
      this.pino[level]({ context, err: message }, message.message);
    } else {
      const stack =
        level === 'error' && typeof rest[0] === 'string' && rest.length > 1 ? rest[0] : undefined;
      this.pino[level]({ context, ...(stack ? { stack } : {}) }, String(message));
    }
  }

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }
}
