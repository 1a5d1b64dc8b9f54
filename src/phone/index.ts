export { PhoneModule } from './phone.module';
export { PhoneService } from './phone.service';
export { countryOfNumber, isValidCountryCode, validatePhoneNumber, normalizeToE164 } from './phone';
export type { PhoneValidation, InvalidReason } from './phone';
