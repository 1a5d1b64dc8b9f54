export { VerificationModule } from './verification.module';
export { VerificationCodeEntity } from './verification-code.entity';
export { VerificationService } from './verification.service';
// Its part in a number's data-subject requests (src/privacy).
export { verificationPersonalData } from './verification-personal-data';
