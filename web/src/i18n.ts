import { signal } from '@preact/signals';

export type Lang = 'en' | 'tr';

const en = {
  title: 'SMS dashboard',
  signIn: 'Sign in',
  signOut: 'Sign out',
  tokenLabel: 'Bearer token',
  tokenHelp: 'Paste a token from `npm run token -- --role admin --dashboard`. It is kept in this tab only.',
  tokenInvalid: 'That is not a token this service reads.',
  sessionEnded: 'Your session ended (the token expired or was refused). Sign in again.',
  overview: 'Overview',
  messages: 'Messages',
  campaigns: 'Campaigns',
  templates: 'Templates',
  optOuts: 'Opt-outs',
  inbound: 'Inbound',
  alerts: 'Alerts',
  language: 'Türkçe',
  loading: 'Loading…',
  notAllowed: 'Your token does not allow this page.',
  days: 'days',
  totalMessages: 'Messages',
  delivered: 'Delivered',
  deliveryRate: 'Delivery rate',
  failed: 'Failed',
  undelivered: 'Undelivered',
  segments: 'Segments',
  costMtd: 'Cost, month to date',
  estimated: 'estimated',
  actual: 'reported by providers',
  perDay: 'Messages and delivery rate per day',
  outcomes: 'Outcomes',
  providerHealth: 'Provider health',
  circuit: 'Circuit',
  errorRate: 'Error rate (5 min)',
  openAlerts: 'Recent alerts',
  none: 'None',
  phone: 'Phone',
  status: 'Status',
  type: 'Type',
  from: 'From',
  to: 'To',
  campaign: 'Campaign',
  search: 'Search',
  loadMore: 'Load more',
  body: 'Text',
  created: 'Created',
  provider: 'Provider',
  cost: 'Cost',
  attempts: 'Attempts',
  timeline: 'Timeline',
  back: 'Back',
  any: 'any',
  name: 'Name',
  template: 'Template',
  roles: 'Recipient roles (comma separated)',
  tags: 'Tags (comma separated)',
  languages: 'Languages (comma separated)',
  variables: 'Variables (name=value per line)',
  preview: 'Preview',
  create: 'Create',
  execute: 'Execute',
  cancel: 'Cancel',
  progress: 'Progress',
  recipients: 'Recipients',
  willSend: 'Will send',
  skipped: 'Skipped',
  encoding: 'Encoding',
  estimatedCost: 'Estimated cost',
  samples: 'Samples',
  newCampaign: 'New campaign',
  previewFirst: 'Check the preview before creating.',
  save: 'Save',
  saved: 'Saved',
  newTemplate: 'New template',
  templateId: 'Template id',
  messageType: 'Message type',
  english: 'English',
  turkish: 'Turkish',
  chars: 'characters',
  ucs2Warning: 'These characters force UCS-2 (70 characters per segment):',
  sampleVars: 'Sample values (name=value per line)',
  renderedPreview: 'Rendered preview',
  builtIn: 'built-in',
  readOnly: 'Read only: your token may not change templates.',
  add: 'Add',
  remove: 'Remove',
  reason: 'Reason',
  source: 'Source',
  keyword: 'Keyword',
  received: 'Received',
  kind: 'Kind',
  message: 'Message',
  at: 'At',
  error: 'Error',
  prev: 'Previous',
};

export type Key = keyof typeof en;

const tr: Record<Key, string> = {
  title: 'SMS paneli',
  signIn: 'Giriş yap',
  signOut: 'Çıkış',
  tokenLabel: 'Bearer jetonu',
  tokenHelp:
    '`npm run token -- --role admin --dashboard` ile alınan jetonu yapıştırın. Yalnızca bu sekmede tutulur.',
  tokenInvalid: 'Bu, servisin okuyabildiği bir jeton değil.',
  sessionEnded: 'Oturumunuz sona erdi (jetonun süresi doldu ya da reddedildi). Yeniden giriş yapın.',
  overview: 'Genel bakış',
  messages: 'Mesajlar',
  campaigns: 'Kampanyalar',
  templates: 'Şablonlar',
  optOuts: 'Ret listesi',
  inbound: 'Gelen mesajlar',
  alerts: 'Uyarılar',
  language: 'English',
  loading: 'Yükleniyor…',
  notAllowed: 'Jetonunuz bu sayfaya izin vermiyor.',
  days: 'gün',
  totalMessages: 'Mesajlar',
  delivered: 'Teslim edildi',
  deliveryRate: 'Teslim oranı',
  failed: 'Başarısız',
  undelivered: 'Teslim edilemedi',
  segments: 'Parçalar',
  costMtd: 'Bu ayki maliyet',
  estimated: 'tahmini',
  actual: 'sağlayıcıların bildirdiği',
  perDay: 'Günlük mesajlar ve teslim oranı',
  outcomes: 'Sonuçlar',
  providerHealth: 'Sağlayıcı durumu',
  circuit: 'Devre',
  errorRate: 'Hata oranı (5 dk)',
  openAlerts: 'Son uyarılar',
  none: 'Yok',
  phone: 'Telefon',
  status: 'Durum',
  type: 'Tür',
  from: 'Başlangıç',
  to: 'Bitiş',
  campaign: 'Kampanya',
  search: 'Ara',
  loadMore: 'Daha fazla',
  body: 'Metin',
  created: 'Oluşturuldu',
  provider: 'Sağlayıcı',
  cost: 'Maliyet',
  attempts: 'Deneme',
  timeline: 'Zaman çizelgesi',
  back: 'Geri',
  any: 'hepsi',
  name: 'Ad',
  template: 'Şablon',
  roles: 'Alıcı rolleri (virgülle)',
  tags: 'Etiketler (virgülle)',
  languages: 'Diller (virgülle)',
  variables: 'Değişkenler (satır başına ad=değer)',
  preview: 'Önizleme',
  create: 'Oluştur',
  execute: 'Başlat',
  cancel: 'İptal et',
  progress: 'İlerleme',
  recipients: 'Alıcılar',
  willSend: 'Gönderilecek',
  skipped: 'Atlanan',
  encoding: 'Kodlama',
  estimatedCost: 'Tahmini maliyet',
  samples: 'Örnekler',
  newCampaign: 'Yeni kampanya',
  previewFirst: 'Oluşturmadan önce önizlemeyi kontrol edin.',
  save: 'Kaydet',
  saved: 'Kaydedildi',
  newTemplate: 'Yeni şablon',
  templateId: 'Şablon kimliği',
  messageType: 'Mesaj türü',
  english: 'İngilizce',
  turkish: 'Türkçe',
  chars: 'karakter',
  ucs2Warning: 'Bu karakterler UCS-2 gerektirir (parça başına 70 karakter):',
  sampleVars: 'Örnek değerler (satır başına ad=değer)',
  renderedPreview: 'Önizleme metni',
  builtIn: 'yerleşik',
  readOnly: 'Salt okunur: jetonunuz şablonları değiştiremez.',
  add: 'Ekle',
  remove: 'Kaldır',
  reason: 'Neden',
  source: 'Kaynak',
  keyword: 'Anahtar sözcük',
  received: 'Alındı',
  kind: 'Tür',
  message: 'Mesaj',
  at: 'Zaman',
  error: 'Hata',
  prev: 'Önceki',
};

const LANG_KEY = 'sms-dashboard-lang';

function initialLang(): Lang {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved === 'en' || saved === 'tr') return saved;
  return (navigator.language || 'en').toLowerCase().startsWith('tr') ? 'tr' : 'en';
}

export const lang = signal<Lang>(initialLang());

export function setLang(l: Lang): void {
  lang.value = l;
  localStorage.setItem(LANG_KEY, l);
  document.documentElement.lang = l;
}

export function t(key: Key): string {
  return (lang.value === 'tr' ? tr : en)[key];
}

export function fmtNumber(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  return new Intl.NumberFormat(lang.value === 'tr' ? 'tr-TR' : 'en-US').format(n);
}

export function fmtPct(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  return new Intl.NumberFormat(lang.value === 'tr' ? 'tr-TR' : 'en-US', {
    style: 'percent',
    maximumFractionDigits: 1,
  }).format(n);
}

export function fmtDate(s: string | null | undefined): string {
  if (!s) return '—';
  return new Date(s).toLocaleString(lang.value === 'tr' ? 'tr-TR' : 'en-US');
}
