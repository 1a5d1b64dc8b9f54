export { TenancyModule } from './tenancy.module';
export { TenantEntity } from './tenant.entity';
export type { TenantSettings } from './tenant.entity';
export { TenantGuard } from './tenant.guard';
export { TenantsService } from './tenants.service';
