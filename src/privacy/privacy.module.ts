import { Module } from '@nestjs/common';
import { AuditModule } from '../audit';
import { MessagingModule } from '../messaging';
import { PhoneModule } from '../phone';
import { PrivacyController } from './privacy.controller';
import { PrivacyService } from './privacy.service';

/** Data-subject requests: erase or export one phone number's data (docs/privacy.md). */
@Module({
  imports: [MessagingModule, AuditModule, PhoneModule],
  controllers: [PrivacyController],
  providers: [PrivacyService],
  exports: [PrivacyService],
})
export class PrivacyModule {}
