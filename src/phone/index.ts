export { PhoneModule } from './phone.module';
export { PhoneService } from './phone.service';
export { isValidCountryCode, validatePhoneNumber, normalizeToE164 } from './phone';
export type { PhoneValidation, InvalidReason } from './phone';
