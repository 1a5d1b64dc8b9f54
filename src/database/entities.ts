/** Every TypeORM entity, listed as classes (no globs) so the app, the CLI and tests agree. */
import { TenantEntity } from '../tenancy/tenant.entity';

export const ENTITIES = [TenantEntity];
