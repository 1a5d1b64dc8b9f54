export { VerificationModule } from './verification.module';
export { VerificationCodeEntity } from './verification-code.entity';
export { VerificationService } from './verification.service';
