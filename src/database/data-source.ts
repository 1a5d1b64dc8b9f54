import { DataSource, DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { ENTITIES } from './entities';

export interface PoolTimeouts {
  /** Longest wait for a connection (a free pool slot, or a new connection's connect). */
  acquireTimeoutMs?: number;
  /** Server-side statement_timeout (and a client-side read timeout a bit longer, for a hung server). */
  statementTimeoutMs?: number;
}

/** One definition of the data source, shared by the app, the CLI and the tests. */
export function dataSourceOptions(
  databaseUrl: string,
  poolSize = 20,
  timeouts: PoolTimeouts = {},
): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
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

export function createDataSource(databaseUrl: string, poolSize?: number): DataSource {
  return new DataSource(dataSourceOptions(databaseUrl, poolSize));
}
