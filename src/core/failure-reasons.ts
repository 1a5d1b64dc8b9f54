/**
 * Why a message did not arrive, in words a person can act on: a stable reason code, one sentence
 * in English and in Turkish, and whether sending it again can help. Pure.
 *
 * The reasons are the service's own vocabulary and name no provider. Each provider reads its own
 * codes into them (`src/providers/*`: `readErrorCode`), and gives the label shown in brackets
 * (e.g. "Twilio 30005"); the codes the service writes itself (`tenant_deactivated`,
 * `outcome_unknown`…) are read here. Nothing is stored: a message's `failure` is derived when it
 * is read, from its status and its `error_code`.
 */
import type { MessageStatus, ProviderName } from './message-types';

interface ReasonText {
  /** What happened (starts with a capital, no full stop). */
  what: string;
  /** What a person can do about it (lower case, no full stop). */
  todo: string;
}

interface ReasonEntry {
  /**
   * Sending the same message again, later, may succeed without anyone changing the number or the
   * text (perhaps once an outage ends or the operator fixed a setting).
   */
  retryable: boolean;
  en: ReasonText;
  tr: ReasonText;
  /** Instead of the usual retry clause, where resending is itself the risk. */
  retry?: { en: string; tr: string };
}

const MAY_DOUBLE = {
  en: 'resending may deliver it twice',
  tr: 'yeniden göndermek mesajın iki kez ulaşmasına yol açabilir',
};
const WAIT_FOR_ANSWER = {
  en: 'wait: the service asks the provider and updates the status',
  tr: 'bekleyin: servis sağlayıcıya sorup durumu güncelliyor',
};

/**
 * Every reason, with its sentences. Stable: a reason is never renamed or given another meaning;
 * new ones may be added (a reader treats one it does not know like `unknown_error`).
 */
export const FAILURE_REASONS = {
  // The number
  invalid_number: {
    retryable: false,
    en: { what: 'Not a valid phone number', todo: 'check the number and correct it' },
    tr: { what: 'Geçerli bir telefon numarası değil', todo: 'numarayı kontrol edip düzeltin' },
  },
  not_mobile: {
    retryable: false,
    en: {
      what: 'The number cannot receive SMS (a landline, or a line without SMS)',
      todo: 'use a mobile number',
    },
    tr: {
      what: 'Numara SMS alamıyor (sabit hat ya da SMS almayan bir hat)',
      todo: 'bir cep telefonu numarası kullanın',
    },
  },
  number_not_in_service: {
    retryable: false,
    en: { what: 'Number not in service', todo: 'check the number' },
    tr: { what: 'Numara kullanımda değil', todo: 'numarayı kontrol edin' },
  },
  unreachable: {
    retryable: true,
    en: {
      what: 'The phone is switched off or out of coverage',
      todo: 'check that the phone is on and has signal',
    },
    tr: {
      what: 'Telefon kapalı ya da kapsama alanı dışında',
      todo: 'telefonun açık olduğunu ve şebekeye bağlı olduğunu kontrol edin',
    },
  },
  carrier_unreachable: {
    retryable: true,
    en: {
      what: "The recipient's mobile network could not be reached",
      todo: 'wait for the network to recover',
    },
    tr: { what: 'Alıcının mobil operatörüne ulaşılamadı', todo: 'operatörün sorunu gidermesini bekleyin' },
  },
  delivery_expired: {
    retryable: true,
    en: {
      what: 'The message expired before the network could deliver it',
      todo: 'check that the phone is on and has signal',
    },
    tr: {
      what: 'Mesajın süresi, operatör teslim edemeden doldu',
      todo: 'telefonun açık olduğunu ve şebekeye bağlı olduğunu kontrol edin',
    },
  },
  opted_out: {
    retryable: false,
    en: {
      what: 'The recipient opted out of messages from this sender',
      todo: 'do not text this number unless the recipient opts in again (texts START)',
    },
    tr: {
      what: 'Alıcı bu göndericiden mesaj almayı reddetti',
      todo: 'alıcı yeniden izin vermedikçe (START yazmadıkça) bu numaraya mesaj göndermeyin',
    },
  },
  blocked_by_recipient: {
    retryable: false,
    en: {
      what: "The recipient's phone or network blocks messages from this sender",
      todo: 'ask the recipient to unblock the sender, or reach them another way',
    },
    tr: {
      what: 'Alıcının telefonu ya da operatörü bu göndericinin mesajlarını engelliyor',
      todo: 'alıcıdan engeli kaldırmasını isteyin ya da ona başka bir yoldan ulaşın',
    },
  },
  // The text
  spam_filtered: {
    retryable: false,
    en: {
      what: 'The network filtered the message as spam or unwanted content',
      todo: 'change the text, or ask the service operator to register the sender',
    },
    tr: {
      what: 'Operatör mesajı istenmeyen içerik (spam) olarak filtreledi',
      todo: 'metni değiştirin ya da servis yöneticisinden göndericiyi kaydettirmesini isteyin',
    },
  },
  message_invalid: {
    retryable: false,
    en: { what: 'The provider refused the text (empty, too long or not allowed)', todo: 'change the text' },
    tr: {
      what: 'Sağlayıcı metni reddetti (boş, çok uzun ya da izin verilmeyen içerik)',
      todo: 'metni değiştirin',
    },
  },
  // The service's own setup
  destination_not_supported: {
    retryable: false,
    en: {
      what: 'The service cannot send to this country or kind of number',
      todo: 'ask the service operator to enable the destination',
    },
    tr: {
      what: 'Servis bu ülkeye ya da bu tür numaralara gönderim yapamıyor',
      todo: 'servis yöneticisinden bu hedefi açmasını isteyin',
    },
  },
  sender_not_registered: {
    retryable: false,
    en: {
      what: 'The sender number or name is not registered for this destination',
      todo: 'ask the service operator to register the sender',
    },
    tr: {
      what: 'Gönderici numarası ya da adı bu hedef için kayıtlı değil',
      todo: 'servis yöneticisinden göndericiyi kaydettirmesini isteyin',
    },
  },
  provider_account: {
    retryable: true,
    en: {
      what: "The provider refused the service's account (credentials, suspension or a price limit)",
      todo: 'ask the service operator to check the provider account',
    },
    tr: {
      what: 'Sağlayıcı servisin hesabını reddetti (kimlik bilgileri, askıya alma ya da fiyat sınırı)',
      todo: 'servis yöneticisinden sağlayıcı hesabını kontrol etmesini isteyin',
    },
  },
  rate_limited: {
    retryable: true,
    en: {
      what: 'The provider or the network limited the sending rate',
      todo: 'send more slowly, or spread the messages over time',
    },
    tr: {
      what: 'Sağlayıcı ya da operatör gönderim hızını sınırladı',
      todo: 'daha yavaş gönderin ya da mesajları zamana yayın',
    },
  },
  provider_unavailable: {
    retryable: true,
    en: {
      what: 'No SMS provider could take the message (an outage)',
      todo: 'nothing needs to change on your side',
    },
    tr: {
      what: 'Hiçbir SMS sağlayıcısı mesajı alamadı (kesinti)',
      todo: 'sizin tarafınızda değişmesi gereken bir şey yok',
    },
  },
  // Outcomes the service does not know
  provider_timeout: {
    retryable: false,
    retry: MAY_DOUBLE,
    en: {
      what: 'The provider did not answer in time and may have sent the message',
      todo: WAIT_FOR_ANSWER.en,
    },
    tr: { what: 'Sağlayıcı zamanında yanıt vermedi; mesajı göndermiş olabilir', todo: WAIT_FOR_ANSWER.tr },
  },
  send_interrupted: {
    retryable: false,
    retry: MAY_DOUBLE,
    en: {
      what: 'The send was interrupted, so it is not yet known whether the provider has the message',
      todo: WAIT_FOR_ANSWER.en,
    },
    tr: {
      what: 'Gönderim yarıda kesildi; mesajın sağlayıcıya ulaşıp ulaşmadığı henüz bilinmiyor',
      todo: WAIT_FOR_ANSWER.tr,
    },
  },
  outcome_unknown: {
    retryable: false,
    retry: MAY_DOUBLE,
    en: {
      what: 'The provider never said whether the message arrived',
      todo: 'ask the recipient if it matters',
    },
    tr: { what: 'Sağlayıcı mesajın ulaşıp ulaşmadığını hiç bildirmedi', todo: 'önemliyse alıcıya sorun' },
  },
  // Not sent at all
  validity_expired: {
    retryable: true,
    en: {
      what: 'The message was not sent within its validity period (nothing was sent or charged)',
      todo: 'send a new message if it is still needed',
    },
    tr: {
      what: 'Mesaj geçerlilik süresi içinde gönderilemedi (hiçbir şey gönderilmedi, ücret alınmadı)',
      todo: 'hâlâ gerekiyorsa yeni bir mesaj gönderin',
    },
  },
  tenant_deactivated: {
    retryable: false,
    en: {
      what: 'The account was deactivated before the message was sent',
      todo: 'ask the service operator to reactivate the account',
    },
    tr: {
      what: 'Hesap, mesaj gönderilmeden önce devre dışı bırakıldı',
      todo: 'servis yöneticisinden hesabı yeniden etkinleştirmesini isteyin',
    },
  },
  canceled: {
    retryable: true,
    en: { what: 'The message was canceled before it was sent', todo: 'send it again if it is still needed' },
    tr: { what: 'Mesaj gönderilmeden önce iptal edildi', todo: 'hâlâ gerekiyorsa yeniden gönderin' },
  },
  internal_error: {
    retryable: true,
    en: {
      what: 'The service could not hand the message to a provider (an internal error)',
      todo: 'tell the service operator if it happens again',
    },
    tr: {
      what: 'Servis mesajı sağlayıcıya iletemedi (iç hata)',
      todo: 'tekrarlanırsa servis yöneticisine bildirin',
    },
  },
  unknown_error: {
    retryable: true,
    en: {
      what: 'The provider reported a failure without a reason the service knows',
      todo: 'tell the service operator if it happens again',
    },
    tr: {
      what: 'Sağlayıcı, servisin tanımadığı bir nedenle hata bildirdi',
      todo: 'tekrarlanırsa servis yöneticisine bildirin',
    },
  },
  // Refused when accepted (a campaign's skips): never reached the ledger as a message
  message_too_long: {
    retryable: false,
    en: { what: 'The text is longer than the service allows', todo: 'shorten the text' },
    tr: { what: 'Metin servisin izin verdiğinden uzun', todo: 'metni kısaltın' },
  },
  missing_variables: {
    retryable: false,
    en: {
      what: "The template's variables are missing for this recipient",
      todo: "fill in the recipient's attributes or the campaign's variables",
    },
    tr: {
      what: 'Bu alıcı için şablon değişkenleri eksik',
      todo: 'alıcının özniteliklerini ya da kampanya değişkenlerini doldurun',
    },
  },
  inactive_recipient: {
    retryable: false,
    en: { what: 'The recipient is marked inactive', todo: 'reactivate the recipient in the directory' },
    tr: { what: 'Alıcı pasif olarak işaretli', todo: 'alıcıyı rehberde yeniden etkinleştirin' },
  },
  spend_cap_reached: {
    retryable: true,
    en: { what: 'The monthly spend cap is reached', todo: 'raise the cap, or wait for next month' },
    tr: { what: 'Aylık harcama sınırına ulaşıldı', todo: 'sınırı yükseltin ya da gelecek ayı bekleyin' },
  },
  country_not_allowed: {
    retryable: false,
    en: {
      what: "The destination country is not among the account's allowed countries",
      todo: 'add it to allowed_countries if it should be reached',
    },
    tr: {
      what: 'Hedef ülke, hesabın izin verilen ülkeleri arasında değil',
      todo: 'ulaşılması gerekiyorsa ülkeyi allowed_countries listesine ekleyin',
    },
  },
  premium_rate: {
    retryable: false,
    en: {
      what: 'The number is a premium-rate number, which the service does not text',
      todo: 'use another number',
    },
    tr: {
      what: 'Numara özel ücretli bir numara; servis bu numaralara mesaj göndermez',
      todo: 'başka bir numara kullanın',
    },
  },
  shared_cost: {
    retryable: false,
    en: {
      what: 'The number is a shared-cost number, which the service does not text',
      todo: 'use another number',
    },
    tr: {
      what: 'Numara paylaşımlı ücretli bir numara; servis bu numaralara mesaj göndermez',
      todo: 'başka bir numara kullanın',
    },
  },
  no_consent: {
    retryable: false,
    en: {
      what: 'The recipient has not consented to these messages',
      todo: "collect the recipient's consent first",
    },
    tr: { what: 'Alıcı bu mesajlar için onay vermedi', todo: 'önce alıcının onayını alın' },
  },
} as const satisfies Record<string, ReasonEntry>;

export type FailureReason = keyof typeof FAILURE_REASONS;
export const FAILURE_REASON_CODES = Object.keys(FAILURE_REASONS) as FailureReason[];

/** A provider's reading of one of its codes (see `src/providers/failure-codes.ts`). */
export interface ProviderCodeReading {
  reason: FailureReason;
  provider: ProviderName;
  /** The provider's own code, as it gave it (`30005`, `TEXT_UNREACHABLE`, `http_503`). */
  code: string;
  /** How the sentence names it, in brackets: `Twilio 30005`. */
  label: string;
}

/**
 * A message's `failure`, in API answers and callbacks alike (one shape, so the two never
 * differ). `provider_code` is the provider's own code; null when the service itself decided.
 */
export interface MessageFailure {
  reason: FailureReason;
  retryable: boolean;
  provider: ProviderName | null;
  provider_code: string | null;
  message: { en: string; tr: string };
}

/**
 * The statuses a message carries a failure in: it did not arrive, or it is not known whether it
 * did (`expired`: not handed to a provider within its validity period).
 */
export const FAILURE_STATUSES: readonly MessageStatus[] = [
  'failed',
  'undelivered',
  'unknown',
  'canceled',
  'expired',
];

/** The error codes the service writes itself (not a provider's), and what they mean. */
export const OWN_ERROR_CODES: Readonly<Record<string, FailureReason>> = {
  tenant_deactivated: 'tenant_deactivated',
  internal_error: 'internal_error',
  outcome_unknown: 'outcome_unknown',
  worker_lost: 'send_interrupted',
  timeout: 'provider_timeout', // an unknown row the resolver re-marks without a provider's code
  validity_expired: 'validity_expired',
  // The router's codes when no provider gave a real answer.
  circuit_open: 'provider_unavailable',
  no_provider_available: 'provider_unavailable',
};

/** A status without an error code still says something. */
const BY_STATUS: Readonly<Record<string, FailureReason>> = {
  canceled: 'canceled',
  unknown: 'outcome_unknown',
  expired: 'validity_expired',
};

/** The sentence of `reason`, with the provider's label in brackets when there is one. */
export function describeFailure(
  reason: FailureReason,
  from: Pick<ProviderCodeReading, 'provider' | 'code' | 'label'> | null = null,
): MessageFailure {
  const entry: ReasonEntry = FAILURE_REASONS[reason];
  const sentence = (lang: 'en' | 'tr'): string => {
    const { what, todo } = entry[lang];
    const retry =
      entry.retry?.[lang] ??
      (lang === 'en'
        ? entry.retryable
          ? 'retrying later may help'
          : 'retrying will not help'
        : entry.retryable
          ? 'daha sonra yeniden denemek işe yarayabilir'
          : 'yeniden denemek işe yaramaz');
    return `${what}${from ? ` (${from.label})` : ''}: ${todo}; ${retry}.`;
  };
  return {
    reason,
    retryable: entry.retryable,
    provider: from?.provider ?? null,
    provider_code: from?.code ?? null,
    message: { en: sentence('en'), tr: sentence('tr') },
  };
}

/** Reads a provider's `<provider>:<code>`; null when no provider knows the prefix. */
export type ProviderCodeReader = (errorCode: string) => ProviderCodeReading | null;

/**
 * A message's failure from its status and stored `error_code`: null while it may still arrive or
 * once it did (scheduled, queued, sending, sent, delivered). A code nobody knows is
 * `unknown_error`; no code at all is read from the status.
 */
export function failureOf(
  status: string,
  errorCode: string | null,
  readProviderCode: ProviderCodeReader,
): MessageFailure | null {
  if (!(FAILURE_STATUSES as readonly string[]).includes(status)) return null;
  if (errorCode) {
    if (Object.hasOwn(OWN_ERROR_CODES, errorCode)) return describeFailure(OWN_ERROR_CODES[errorCode]);
    const reading = readProviderCode(errorCode);
    return reading ? describeFailure(reading.reason, reading) : describeFailure('unknown_error');
  }
  return describeFailure(Object.hasOwn(BY_STATUS, status) ? BY_STATUS[status] : 'unknown_error');
}

/**
 * The names a campaign's skips (and the accept path's refusals) are recorded under, read as
 * reasons; null for a name this catalogue does not know.
 */
const SKIP_NAMES: Readonly<Record<string, FailureReason>> = {
  invalid_phone: 'invalid_number',
  opted_out: 'opted_out',
  missing_variables: 'missing_variables',
  inactive: 'inactive_recipient',
  too_long: 'message_too_long',
  spend_cap_reached: 'spend_cap_reached',
  country_not_allowed: 'country_not_allowed',
  premium_rate: 'premium_rate',
  shared_cost: 'shared_cost',
  no_consent: 'no_consent',
};

export function describeSkip(name: string): MessageFailure | null {
  return Object.hasOwn(SKIP_NAMES, name) ? describeFailure(SKIP_NAMES[name]) : null;
}
