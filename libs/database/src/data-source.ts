import { HUB_CONFIG, type HubConfig } from '@app/config';
import { DataSource } from 'typeorm';
import { FeedEntity } from './entities/feed.entity.js';
import {
  AggregationGroupEntity,
  FeedSliceEntity,
  RelayPositionEntity,
} from './entities/feed-slice.entity.js';
import { KpiChangeEntity } from './entities/kpi-change.entity.js';
import { InitialSchema1763800000000 } from './migrations/1763800000000-initial-schema.js';
import { KpiChangeLog1763900000000 } from './migrations/1763900000000-kpi-change-log.js';
import { LgspEdge1764000000000 } from './migrations/1764000000000-lgsp-edge.js';
import { IncrementalAggregation1764100000000 } from './migrations/1764100000000-incremental-aggregation.js';
import { OneChangeLogIndex1764200000000 } from './migrations/1764200000000-one-change-log-index.js';
import { PeopleAndRoles1764300000000 } from './migrations/1764300000000-people-and-roles.js';
import { RebasedHistory1764400000000 } from './migrations/1764400000000-rebased-history.js';
import { OfficialFigures1764500000000 } from './migrations/1764500000000-official-figures.js';

export const ENTITIES = [
  FeedEntity,
  FeedSliceEntity,
  AggregationGroupEntity,
  RelayPositionEntity,
  KpiChangeEntity,
];
export const MIGRATIONS = [
  InitialSchema1763800000000,
  KpiChangeLog1763900000000,
  LgspEdge1764000000000,
  IncrementalAggregation1764100000000,
  OneChangeLogIndex1764200000000,
  PeopleAndRoles1764300000000,
  RebasedHistory1764400000000,
  OfficialFigures1764500000000,
];

export function createDataSource(url: string, poolSize = 10): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    synchronize: false,
    migrationsRun: false,
    logging: ['error'],
    extra: { max: poolSize, application_name: 'lgsp-hub' },
  });
}

/** Any number and kind of service may boot at once: one migrates, the others wait for it. */
const MIGRATION_LOCK = 727_001;

export async function runMigrations(ds: DataSource): Promise<string[]> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const done = await ds.runMigrations({ transaction: 'all' });
    return done.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}

export const DATA_SOURCE = Symbol('DATA_SOURCE');

/** An initialised, migrated DataSource as a Nest provider (`@Inject(DATA_SOURCE)`). */
export const dataSourceProvider = {
  provide: DATA_SOURCE,
  inject: [HUB_CONFIG],
  useFactory: async (c: HubConfig): Promise<DataSource> => {
    const ds = await createDataSource(c.DATABASE_URL).initialize();
    await runMigrations(ds);
    return ds;
  },
};
