import 'reflect-metadata';
import { Global, Module } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { plainToInstance, Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';

/**
 * The hub's configuration, read from the environment once per process and validated.
 * `process.env` is read here and nowhere else. Defaults are the embedded local setup that
 * `npm start` brings up.
 */
export class HubConfig {
  /** Comma-separated `host:port` list. */
  @IsString()
  @Matches(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, {
    message: 'KAFKA_BROKERS must be host:port[,host:port...]',
  })
  KAFKA_BROKERS = '127.0.0.1:9092';

  /** The PostgreSQL the services keep their state in (`npm run infra:up` starts this one). */
  @IsString()
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL = 'postgres://postgres:lgsp@127.0.0.1:54329/lgsp';

  /** The administrative-unit lists (2008 and 2025), relative to the working directory. */
  @IsString()
  ADMIN_UNITS_DIR = 'data/admin-units';

  /**
   * The api: the Chromium (or Chrome) that prints provincial reports to PDF, headless. Absent
   * there, a PDF is refused with 503 and the HTML report still works.
   */
  @IsString()
  CHROMIUM_PATH = '/usr/bin/chromium';

  /** The least severe log lines written (JSON on stdout): error, warn, log, debug or verbose. */
  @IsIn(['error', 'warn', 'log', 'debug', 'verbose'])
  LOG_LEVEL = 'log';

  /** Prefix of each service's Kafka client id (`<prefix>-ingest`...), as the broker logs it. */
  @IsString()
  @Matches(/^[A-Za-z0-9._-]+$/)
  KAFKA_CLIENT_ID = 'lgsp-hub';

  /** SASL/SCRAM for a secured broker (docker/compose.yaml, profile \`secure\`); unset: none. */
  @IsOptional()
  @IsIn(['scram-sha-256', 'scram-sha-512'])
  KAFKA_SASL_MECHANISM?: 'scram-sha-256' | 'scram-sha-512' = undefined;

  /** The service's SCRAM user (with KAFKA_SASL_MECHANISM). */
  @IsOptional()
  @IsString()
  KAFKA_SASL_USERNAME?: string = undefined;

  /** The SCRAM user's password. */
  @IsOptional()
  @IsString()
  KAFKA_SASL_PASSWORD?: string = undefined;

  /**
   * TLS to the broker: the PEM file of the CA its certificate is signed by (the secure mode of
   * `npm start -- --secure` makes one). Unset: plaintext.
   */
  @IsOptional()
  @IsString()
  KAFKA_SSL_CA_FILE?: string = undefined;

  /**
   * The api on a secured broker: the Java classpath of Apache Kafka's jars, whose
   * ConfigCommand creates and removes sources' SCRAM credentials when they are onboarded,
   * suspended or removed (`.cache/kafka-<version>/lib/*` once fetched). Unset: the api
   * manages no Kafka credentials or ACLs.
   */
  @IsOptional()
  @IsString()
  KAFKA_TOOLS_CLASSPATH?: string = undefined;

  /** Consumer group of the ingest service. */
  @IsString()
  INGEST_GROUP = 'lgsp-ingest';

  /** Consumer group of the aggregator service. */
  @IsString()
  AGGREGATOR_GROUP = 'lgsp-aggregator';

  /** HTTP port of the api (KPIs, registry, ops, dashboard). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65535)
  API_PORT = 3000;

  /** HTTP port of the ingest (feeds over HTTP, health, metrics). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65535)
  INGEST_PORT = 3001;

  /** HTTP port of the aggregator (health, metrics). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65535)
  AGGREGATOR_PORT = 3002;

  /** HTTP port of the relay (health, metrics). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65535)
  RELAY_PORT = 3003;

  /** Interface the HTTP servers bind to. */
  @IsString()
  HTTP_HOST = '127.0.0.1';

  /** How often the outbox relay looks for unpublished events when not woken, ms. */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  OUTBOX_POLL_MS = 250;

  /**
   * KPI changes are published once feeds have stopped arriving for this long, ms (and nothing
   * is known to be waiting): changes in between coalesce into one event per key.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  KPI_FLUSH_QUIET_MS = 100;

  /**
   * The longest a KPI change waits to be published while feeds keep arriving and the hub
   * keeps up with them, ms, counted from the change or from when the hub was last behind:
   * changes in that window coalesce into one event per key.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  KPI_FLUSH_MAX_DELAY_MS = 30_000;

  /**
   * The longest a KPI change waits in any case, ms, in practice while more feeds are known to
   * be waiting (the aggregator's consumer has lag, or the ingest's); never less than
   * KPI_FLUSH_MAX_DELAY_MS. A backfill that takes longer is published in steps of this;
   * shorter, once, at its end.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  KPI_FLUSH_BACKLOG_MAX_DELAY_MS = 300_000;

  /** Where a new consumer group starts: all history (`earliest`) or only new records (`latest`). */
  @IsIn(['earliest', 'latest'])
  CONSUMER_START: 'earliest' | 'latest' = 'earliest';

  /** A consumer with lag and no progress for this long is reported unhealthy ("stalled"). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  CONSUMER_STALL_SECONDS = 30;

  /** Where the api finds the other services' health, for /v1/pipeline and the dashboard. */
  @IsOptional()
  @Matches(/^https?:\/\/.+/)
  INGEST_URL?: string = undefined;

  /** The aggregator's base URL, for the api's pipeline view. */
  @IsOptional()
  @Matches(/^https?:\/\/.+/)
  AGGREGATOR_URL?: string = undefined;

  /** The relay's base URL, for the api's pipeline view. */
  @IsOptional()
  @Matches(/^https?:\/\/.+/)
  RELAY_URL?: string = undefined;

  /** Bearer token of the admin API (loading plans); unset disables it. At least 16 characters. */
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'ADMIN_TOKEN must have at least 16 characters' })
  ADMIN_TOKEN?: string = undefined;

  /** Attempts at a batch that fails for a transient reason before the consumer gives up. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  BATCH_RETRIES = 5;

  /** The largest body `POST /v1/feeds` and `/v1/feeds/csv` take, bytes; larger ones get 413. */
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  @Max(15 * 1024 * 1024, { message: 'HTTP_FEED_MAX_BYTES must stay under the 16 MB record limit' })
  HTTP_FEED_MAX_BYTES = 8 * 1024 * 1024;

  /**
   * How often the ingest looks for newly registered sources, to consume their own topics
   * (\`lgsp.feeds.v1.<source>\`), ms.
   */
  @Type(() => Number)
  @IsInt()
  @Min(200)
  SOURCE_TOPICS_REFRESH_MS = 10_000;

  /**
   * \`true\`: the read API (KPIs, series, the change feed) answers only a token of any role
   * (\`npm start -- --secure\` sets it); \`false\`: it is open, and a reader token limited to
   * some provinces still sees only those.
   */
  @IsIn(['true', 'false'])
  READ_API_REQUIRES_TOKEN: 'true' | 'false' = 'false';
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `invalid configuration:\n  - ${problems.join('\n  - ')}\n` +
        'Fix the environment variables above (see README, "Configuration") and start again.',
    );
    this.name = 'ConfigError';
  }
}

/** Reads and validates the configuration; throws a ConfigError naming every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const known = Object.keys(new HubConfig());
  const given = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => known.includes(k) && v !== undefined && v !== ''),
  );
  const config = plainToInstance(HubConfig, given, { exposeDefaultValues: true });
  const problems = validateSync(config).map(
    (e) =>
      `${e.property}=${JSON.stringify(given[e.property] ?? e.value)}: ${Object.values(e.constraints ?? {}).join('; ')}`,
  );
  const dir = resolve(config.ADMIN_UNITS_DIR);
  if (!existsSync(resolve(dir, 'communes-2008.csv')))
    problems.push(`ADMIN_UNITS_DIR=${dir}: no communes-2008.csv there (run from the project root)`);
  if (problems.length) throw new ConfigError(problems);
  return config;
}

export const HUB_CONFIG = Symbol('HUB_CONFIG');

/** The validated configuration as a Nest provider (`@Inject(HUB_CONFIG)`). */
export const hubConfigProvider = { provide: HUB_CONFIG, useFactory: (): HubConfig => loadConfig() };

/** The validated configuration, for every module of a service (`@Inject(HUB_CONFIG)`). */
@Global()
@Module({ providers: [hubConfigProvider], exports: [HUB_CONFIG] })
export class ConfigModule {}
