import 'reflect-metadata';
import { type INestApplication, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigError, type HubConfig, loadConfig } from '@app/config';
import { jsonDepth, MAX_JSON_DEPTH } from '@app/contract';
import type { CustomTransportStrategy } from '@nestjs/microservices';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { accessLog } from './access-log.js';
import { PinoNestLogger } from './pino-logger.js';

/**
 * A JSON body nested deeper than any the API takes is refused (400) before it is parsed:
 * class-transformer and class-validator recurse over it.
 */
function refuseDeepJson(_req: unknown, _res: unknown, body: Buffer): void {
  if (jsonDepth(body.toString('utf8'), MAX_JSON_DEPTH) > MAX_JSON_DEPTH)
    throw Object.assign(new Error(`the JSON body nests deeper than ${MAX_JSON_DEPTH} levels`), {
      status: 400,
      expose: true,
    });
}

export interface ServiceOptions {
  /** The HTTP port, from the configuration. */
  readonly port: (config: HubConfig) => number;
  /** Its OpenAPI document, served at /docs (JSON at /docs/openapi.json). */
  readonly openApi: {
    readonly title: string;
    readonly description: string;
    /** Schemas the decorators cannot say (the feed's, from the contract's JSON Schema). */
    readonly extend?: (document: OpenAPIObject) => void;
  };
  /** `false` when the service reads request bodies itself. */
  readonly bodyParser?: boolean;
  /** The transport its `@EventPattern` handlers run on (a Nest microservice in this app). */
  readonly transport?: (app: INestApplication) => CustomTransportStrategy;
}

/**
 * Boots one service: validated config, JSON logs, graceful shutdown on SIGTERM/SIGINT, and an
 * exit code of 1 when the service can no longer do its job (a supervisor restarts it). The
 * providers start first (producers, subscriptions), then the transport's consumers, then HTTP.
 */
export async function runService(
  name: string,
  module: unknown,
  options: ServiceOptions,
): Promise<INestApplication> {
  let config: HubConfig;
  try {
    config = loadConfig();
  } catch (e) {
    process.stderr.write(`${name}: ${(e as Error).message}\n`);
    process.exit(e instanceof ConfigError ? 78 : 1);
  }
  const logger = new PinoNestLogger(
    name,
    config.LOG_LEVEL as 'error' | 'warn' | 'log' | 'debug' | 'verbose',
  );
  const log = new Logger(name);
  const port = options.port(config);
  try {
    const app = await NestFactory.create<NestExpressApplication>(module as never, {
      logger,
      bufferLogs: false,
      abortOnError: false,
      // Registered below, with a depth check, unless the service reads bodies itself.
      bodyParser: false,
    });
    if (options.bodyParser !== false) {
      app.useBodyParser('json', { verify: refuseDeepJson });
      app.useBodyParser('urlencoded', { extended: false });
    }
    app.use(accessLog(logger.pino));
    app.enableShutdownHooks();
    serveOpenApi(app, options.openApi);
    if (options.transport) app.connectMicroservice({ strategy: options.transport(app) });
    await app.init();
    await app.startAllMicroservices();
    await app.listen(port, config.HTTP_HOST);
    log.log(`${name} listening on http://${config.HTTP_HOST}:${port}`);
    return app;
  } catch (e) {
    log.fatal(`${name} could not start: ${(e as Error).message}. ${hint(e, config, port)}`);
    process.exit(1);
  }
}

function serveOpenApi(app: INestApplication, spec: ServiceOptions['openApi']): void {
  const config = new DocumentBuilder()
    .setTitle(spec.title)
    .setDescription(spec.description)
    .setVersion('1')
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config);
  spec.extend?.(document);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
}

/** What to do about a failed start, in the user's terms. */
export function hint(e: unknown, config: HubConfig, port: number): string {
  const err = e as { code?: string; name?: string; message?: string; port?: number };
  const db = new URL(config.DATABASE_URL);
  if (err.code === 'EADDRINUSE')
    return `Port ${port} is taken by another program: stop it or choose another port (API_PORT, INGEST_PORT, AGGREGATOR_PORT, RELAY_PORT).`;
  if (err.code === 'ECONNREFUSED' && String(err.port) === (db.port || '5432'))
    return `Nothing answers at ${db.host} (DATABASE_URL). Start the embedded one with 'npm run infra:up', or point DATABASE_URL at a running PostgreSQL.`;
  if (err.code === '28P01' || err.code === '3D000')
    return `PostgreSQL at ${db.host} refused the credentials or database in DATABASE_URL: check it.`;
  if (err.name?.startsWith('KafkaJS'))
    return `Kafka at ${config.KAFKA_BROKERS} (KAFKA_BROKERS) did not answer. Start the embedded broker with 'npm run infra:up', or point KAFKA_BROKERS at a running one.`;
  return 'See the lines above; the README lists what each service needs.';
}

/** Stops the process when a service cannot go on: offsets are not committed, nothing is lost. */
export function exitFatally(name: string, error: unknown): never {
  new Logger(name).fatal(
    `stopping: ${error instanceof Error ? error.message : String(error)}. ` +
      'Uncommitted records are redelivered when the service is started again.',
  );
  process.exit(1);
}
