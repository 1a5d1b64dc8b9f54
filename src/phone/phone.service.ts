import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { normalizeForSend, normalizeToE164, PhoneValidation, validatePhoneNumber } from './phone';

/** The pure phone functions with the service's default country applied; other modules reuse it. */
@Injectable()
export class PhoneService {
  private readonly defaultCountry: string;

  constructor(@Inject(AppConfig) config: AppConfig) {
    this.defaultCountry = config.get('DEFAULT_COUNTRY_CODE');
  }

  validate(phoneNumber: string, countryCode?: string): PhoneValidation {
    return validatePhoneNumber(phoneNumber, countryCode ?? this.defaultCountry);
  }

  /** The cheap check used on every recipient of a send. */
  forSend(phoneNumber: string, countryCode?: string): ReturnType<typeof normalizeForSend> {
    return normalizeForSend(phoneNumber, countryCode ?? this.defaultCountry);
  }

  toE164(phoneNumber: string, countryCode?: string): string | null {
    return normalizeToE164(phoneNumber, countryCode ?? this.defaultCountry);
  }
}
