import 'reflect-metadata';
import { ConsoleLogger, type INestApplication, Logger, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigError, type HubConfig, loadConfig } from '@app/config';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/**
 * Boots one service: validated config, JSON logs, graceful shutdown on SIGTERM/SIGINT, and an
 * exit code of 1 when the service can no longer do its job (a supervisor restarts it).
 */
export async function runService(
  name: string,
  module: unknown,
  port: (config: HubConfig) => number,
): Promise<INestApplication> {
  let config: HubConfig;
  try {
    config = loadConfig();
  } catch (e) {
    process.stderr.write(`${name}: ${(e as Error).message}\n`);
    process.exit(e instanceof ConfigError ? 78 : 1);
  }
  const logger = new ConsoleLogger({
    json: true,
    prefix: name,
    logLevels: LEVELS.slice(0, LEVELS.indexOf(config.LOG_LEVEL as LogLevel) + 1),
  });
  const log = new Logger(name);
  const app = await NestFactory.create(module as never, { logger, bufferLogs: false });
  app.enableShutdownHooks();
  await app.listen(port(config), config.HTTP_HOST);
  log.log(`${name} listening on http://${config.HTTP_HOST}:${port(config)}`);
  return app;
}

/** Stops the process when a service cannot go on: offsets are not committed, nothing is lost. */
export function exitFatally(name: string, error: unknown): never {
  new Logger(name).fatal(
    `stopping: ${error instanceof Error ? error.message : String(error)}. ` +
      'Uncommitted records are redelivered when the service is started again.',
  );
  process.exit(1);
}
