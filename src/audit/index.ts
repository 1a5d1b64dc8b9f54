export { AuditModule } from './audit.module';
export { AuditService } from './audit.service';
export type { AuditEntry, AuditFilter, AuditTarget } from './audit.service';
export { redact } from './redact';
