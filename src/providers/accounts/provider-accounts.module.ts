import { Module } from '@nestjs/common';
import { AuditModule } from '../../audit';
import { ProvidersModule } from '../providers.module';
import { ProviderAccountsController } from './provider-accounts.controller';

/** The HTTP surface of tenants' own provider accounts (the store and routing live in ProvidersModule). */
@Module({
  imports: [ProvidersModule, AuditModule],
  controllers: [ProviderAccountsController],
})
export class ProviderAccountsModule {}
