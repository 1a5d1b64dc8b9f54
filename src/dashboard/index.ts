export { DashboardModule } from './dashboard.module';
export { DASHBOARD_CSP } from './dashboard.controller';
