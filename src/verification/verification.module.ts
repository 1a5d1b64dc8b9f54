import { Module } from '@nestjs/common';
import { MessagingModule } from '../messaging';
import { TemplatesModule } from '../templates';
import { VerificationController } from './verification.controller';
import { VerificationService } from './verification.service';

@Module({
  imports: [TemplatesModule, MessagingModule],
  controllers: [VerificationController],
  providers: [VerificationService],
  exports: [VerificationService],
})
export class VerificationModule {}
