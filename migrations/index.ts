/** Every migration, in order. Never edit a committed migration: add a new one. */
import { CreateTenants1764000000000 } from './1764000000000-create-tenants';

export const MIGRATIONS = [CreateTenants1764000000000];
