import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { VerificationCodeEntity } from './verification-code.entity';
import { PhoneModule } from '../phone';
import { MessagingModule } from '../messaging';
import { TemplatesModule } from '../templates';
import { VerificationController } from './verification.controller';
import { VerificationService } from './verification.service';

@Module({
  imports: [
    TypeOrmModule.forFeature([VerificationCodeEntity]),
    TemplatesModule,
    MessagingModule,
    PhoneModule,
  ],
  controllers: [VerificationController],
  providers: [VerificationService],
  exports: [VerificationService],
})
export class VerificationModule {}
