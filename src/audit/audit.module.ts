import { Module } from '@nestjs/common';
import { AuditController } from './audit.controller';
import { AuditService } from './audit.service';

/**
 * The audit trail. A feature module that changes administrative data imports it and joins with
 * one call, `audit.record(principal, 'thing.verb', { type, id }, before, after, manager?)`.
 */
@Module({
  controllers: [AuditController],
  providers: [AuditService],
  exports: [AuditService],
})
export class AuditModule {}
