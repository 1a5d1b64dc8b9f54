import { join } from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations';

/**
 * Every feature's entities, by file name, for a data source outside Nest (the migration CLI). The
 * app registers each feature's own with `TypeOrmModule.forFeature` (`autoLoadEntities`), so this
 * folder names no feature.
 */
export const ENTITY_GLOB = join(__dirname, '..', '**', '*.entity.{js,ts}');

export interface PoolTimeouts {
  /** Longest wait for a connection (a free pool slot, or a new connection's connect). */
  acquireTimeoutMs?: number;
  /** Server-side statement_timeout (and a client-side read timeout a bit longer, for a hung server). */
  statementTimeoutMs?: number;
}

/**
 * One definition of the data source, shared by the app, the CLI and the tests. `entities`: none
 * for the app (its features register theirs), `ENTITY_GLOB` outside Nest.
 */
export function dataSourceOptions(
  databaseUrl: string,
  poolSize = 20,
  timeouts: PoolTimeouts = {},
  entities: DataSourceOptions['entities'] = [],
): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    // Fail fast when PostgreSQL is unreachable or the pool is exhausted: the error maps to 503.
    extra: {
      max: poolSize,
      ...(timeouts.acquireTimeoutMs ? { connectionTimeoutMillis: timeouts.acquireTimeoutMs } : {}),
      ...(timeouts.statementTimeoutMs
        ? {
            statement_timeout: timeouts.statementTimeoutMs,
            query_timeout: timeouts.statementTimeoutMs + 5000,
          }
        : {}),
    },
  };
}

/** A data source outside Nest (the CLI, bootstrap, tests' raw queries), with every entity. */
export function createDataSource(databaseUrl: string, poolSize?: number): DataSource {
  return new DataSource(dataSourceOptions(databaseUrl, poolSize, {}, [ENTITY_GLOB]));
}
