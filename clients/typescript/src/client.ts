import { randomUUID } from 'node:crypto';
import createClient, { type Client } from 'openapi-fetch';
import { errorFor, SmsApiError, SmsConnectionError } from './errors';
import type { components, operations, paths } from './schema';

type Schemas = components['schemas'];
type Query<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['query']>;

export type SendRequest = Schemas['SendSmsDto'];
export type SendResponse = Schemas['SendResponseDto'];
export type SendTemplatedRequest = Schemas['SendTemplatedDto'];
export type SendTemplatedResponse = Schemas['SendTemplatedResponse'];
export type SendBulkRequest = Schemas['SendBulkDto'];
export type SendBulkResponse = Schemas['BulkResponseDto'];
export type ScheduleRequest = Schemas['ScheduleSmsDto'];
export type ScheduleResponse = Schemas['ScheduleResponseDto'];
export type MessageStatus = Schemas['MessageStatusDto'];
export type HistoryQuery = Query<'Messaging_history'>;
export type HistoryPage = Schemas['HistoryResponseDto'];
export type ValidatePhoneRequest = Schemas['ValidatePhoneDto'];
export type PhoneValidation = Schemas['PhoneValidationResponseDto'];
export type Me = Schemas['MeResponseDto'];
export type Template = Schemas['TemplateResponseDto'];
export type CreateTemplateRequest = Schemas['CreateTemplateDto'];
export type PatchTemplateRequest = Schemas['PatchTemplateDto'];
/** One A/B variant of a template (`variants` on create, PUT and PATCH; null ends the test). */
export type TemplateVariant = Schemas['TemplateVariantDto'];
export type VariantStats = Schemas['VariantStatsResponseDto'];
export type SendCodeRequest = Schemas['SendCodeDto'];
export type SendCodeResponse = Schemas['SendCodeResponseDto'];
export type CheckCodeRequest = Schemas['CheckCodeDto'];
export type CheckCodeResponse = Schemas['CheckCodeResponseDto'];
export type UpsertAppointmentRequest = Schemas['UpsertAppointmentDto'];
export type Appointment = Schemas['AppointmentResponseDto'];
export type RemindAppointmentRequest = Schemas['RemindAppointmentDto'];
export type RemindAppointmentResponse = Schemas['RemindAppointmentResponseDto'];
export type CreateCampaignRequest = Schemas['CreateCampaignDto'];
export type Campaign = Schemas['CampaignResponseDto'];
export type CampaignPage = Schemas['CampaignPageDto'];
export type CampaignPreview = Schemas['CampaignPreviewDto'];
export type CampaignStatus = Schemas['CampaignStatusDto'];
export type ListCampaignsQuery = Query<'Campaigns_list'>;
export type Recipient = Schemas['RecipientDto'];
export type PutRecipientsResponse = Schemas['PutRecipientsResponseDto'];
export type StoredRecipient = Schemas['RecipientResponseDto'];
export type RecipientPage = Schemas['RecipientPageDto'];
export type ListRecipientsQuery = Query<'Recipients_list'>;
export type StatsQuery = Query<'Analytics_stats'>;
export type Stats = Schemas['StatsResponseDto'];
export type LinkStatsQuery = Query<'LinkStats_stats'>;
export type LinkStats = Schemas['LinkStatsResponseDto'];
export type TenantSettings = Schemas['TenantSettingsDto'];
export type Tenant = Schemas['TenantResponseDto'];
export type ChannelStats = Schemas['ChannelStatsDto'];
export type CostReportQuery = Omit<Query<'Analytics_costs'>, 'format'>;
export type CostReport = Schemas['CostReportDto'];
export type AlertsQuery = Query<'Alerts_list'>;
export type AlertsPage = Schemas['AlertsPageDto'];
export type InboundQuery = Query<'Inbound_list'>;
export type InboundPage = Schemas['InboundPageDto'];
export type CreateWebhookEndpointRequest = Schemas['CreateEndpointDto'];
export type WebhookEndpoint = Schemas['EndpointDto'];
export type WebhookEndpointWithSecret = Schemas['EndpointWithSecretDto'];
export type WebhookDeliveriesQuery = Query<'Callbacks_deliveriesPage'>;
export type WebhookDeliveriesPage = Schemas['DeliveriesPageDto'];
export type WebhookDelivery = Schemas['DeliveryDetailDto'];

export interface SmsClientOptions {
  /** e.g. `https://sms.internal.example.com` (no `/api/sms`: the paths carry it). */
  baseUrl: string;
  /** A platform-signed JWT, or a function returning a fresh one for each request. */
  token: string | (() => string | Promise<string>);
  /** super_admin only: act for this tenant (`X-Tenant-Id`). */
  tenantId?: number;
  /**
   * How often a send is repeated after a 503, a connection error or a 409 "same key in flight"
   * (always with the same Idempotency-Key, so it is never sent twice). Default 2.
   */
  retries?: number;
  /** Longest wait between two tries, in ms (a longer Retry-After is cut to it). Default 10 000. */
  maxRetryWaitMs?: number;
  /** Per-request timeout in ms. Default 10 000. */
  timeoutMs?: number;
  /** Another fetch (tests, proxies). Default: the global fetch of Node ≥ 18. */
  fetch?: (input: Request) => Promise<Response>;
}

/** Per-send options. */
export interface SendOptions {
  /** Default: a new UUID per call (kept across this call's retries). */
  idempotencyKey?: string;
}

/** What openapi-fetch answers (either `data` or `error`), before it is unwrapped. */
interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

const seg = (v: string | number): string => String(v);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A typed client of the SMS service: one method per main operation, each resolving with the
 * service's JSON answer and rejecting with an `SmsApiError` subclass (or `SmsConnectionError`).
 * `api` is the underlying openapi-fetch client, typed from openapi.json, for any other route.
 */
export class SmsClient {
  /** The typed openapi-fetch client (every path of openapi.json). */
  readonly api: Client<paths>;
  private readonly retries: number;
  private readonly maxRetryWaitMs: number;

  constructor(opts: SmsClientOptions) {
    const token = opts.token;
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const baseFetch = opts.fetch ?? ((input: Request) => globalThis.fetch(input));
    this.retries = opts.retries ?? 2;
    this.maxRetryWaitMs = opts.maxRetryWaitMs ?? 10_000;
    this.api = createClient<paths>({
      baseUrl: opts.baseUrl.replace(/\/+$/, ''),
      fetch: (input) => baseFetch(new Request(input, { signal: AbortSignal.timeout(timeoutMs) })),
    });
    this.api.use({
      async onRequest({ request }) {
        const value = typeof token === 'function' ? await token() : token;
        request.headers.set('Authorization', `Bearer ${value}`);
        request.headers.set('Accept', 'application/json');
        if (opts.tenantId !== undefined && !request.headers.has('X-Tenant-Id'))
          request.headers.set('X-Tenant-Id', String(opts.tenantId));
        return request;
      },
    });
  }

  // ------------------------------------------------------------------ messages
  /** POST /api/sms/send → 202 `{success, message_id, status, segments, encoding, estimated_cost, currency}`. */
  send(body: SendRequest, opts: SendOptions = {}): Promise<SendResponse> {
    return this.idempotent(opts, (key) =>
      this.api.POST('/api/sms/send', { body, params: { header: { 'Idempotency-Key': key } } }),
    );
  }

  /** POST /api/sms/send-templated: a template rendered in the recipient's language. */
  sendTemplated(body: SendTemplatedRequest, opts: SendOptions = {}): Promise<SendTemplatedResponse> {
    return this.idempotent(opts, (key) =>
      this.api.POST('/api/sms/send-templated', { body, params: { header: { 'Idempotency-Key': key } } }),
    );
  }

  /** POST /api/sms/send-bulk: the valid numbers are sent, the others listed in `rejected`. */
  sendBulk(body: SendBulkRequest, opts: SendOptions = {}): Promise<SendBulkResponse> {
    return this.idempotent(opts, (key) =>
      this.api.POST('/api/sms/send-bulk', { body, params: { header: { 'Idempotency-Key': key } } }),
    );
  }

  /** POST /api/sms/schedule: `scheduled_time` is ISO 8601 with an offset, in the future. */
  schedule(body: ScheduleRequest, opts: SendOptions = {}): Promise<ScheduleResponse> {
    return this.idempotent(opts, (key) =>
      this.api.POST('/api/sms/schedule', { body, params: { header: { 'Idempotency-Key': key } } }),
    );
  }

  /** DELETE /api/sms/messages/{id}: cancels a scheduled or queued message (409 once sent). */
  async cancel(messageId: string): Promise<void> {
    await this.once(() =>
      this.api.DELETE('/api/sms/messages/{id}', { params: { path: { id: seg(messageId) } } }),
    );
  }

  /** GET /api/sms/messages/{id}/status: the status, cost and event trail of a message. */
  status(messageId: string): Promise<MessageStatus> {
    return this.once(() =>
      this.api.GET('/api/sms/messages/{id}/status', { params: { path: { id: seg(messageId) } } }),
    );
  }

  /** GET /api/sms/history: newest first, keyset pages (`next_cursor`). */
  history(query: HistoryQuery = {}): Promise<HistoryPage> {
    return this.once(() => this.api.GET('/api/sms/history', { params: { query } }));
  }

  /** POST /api/sms/validate-phone. */
  validatePhone(body: ValidatePhoneRequest): Promise<PhoneValidation> {
    return this.once(() => this.api.POST('/api/sms/validate-phone', { body }));
  }

  /** GET /api/sms/me: who the token is. */
  me(): Promise<Me> {
    return this.once(() => this.api.GET('/api/sms/me'));
  }

  /** GET /api/sms/templates. */
  templates(query: Query<'Templates_list'> = {}): Promise<Template[]> {
    return this.once(() => this.api.GET('/api/sms/templates', { params: { query } }));
  }

  /** POST /api/sms/templates (admins); `variants` starts an A/B test. */
  createTemplate(body: CreateTemplateRequest): Promise<Template> {
    return this.once(() => this.api.POST('/api/sms/templates', { body }));
  }

  /** PATCH /api/sms/templates/{id} (admins): the given fields; `variants: null` ends an A/B test without a winner. */
  updateTemplate(templateId: string, body: PatchTemplateRequest): Promise<Template> {
    return this.once(() =>
      this.api.PATCH('/api/sms/templates/{templateId}', { body, params: { path: { templateId } } }),
    );
  }

  /** GET /api/sms/templates/{id}/variants: the running A/B test's outcomes per variant, and the winner if any. */
  variantStats(templateId: string): Promise<VariantStats> {
    return this.once(() =>
      this.api.GET('/api/sms/templates/{templateId}/variants', { params: { path: { templateId } } }),
    );
  }

  /** POST /api/sms/templates/{id}/variants/{key}/promote (admins): that variant's texts become the template's; the test ends. */
  promoteVariant(templateId: string, key: string): Promise<Template> {
    return this.once(() =>
      this.api.POST('/api/sms/templates/{templateId}/variants/{key}/promote', {
        params: { path: { templateId, key } },
      }),
    );
  }

  // ------------------------------------------------------------------ verification codes
  /** POST /api/sms/verification/send (purpose `password_reset` or `2fa`). */
  sendVerificationCode(body: SendCodeRequest, opts: SendOptions = {}): Promise<SendCodeResponse> {
    return this.idempotent(opts, (key) =>
      this.api.POST('/api/sms/verification/send', { body, params: { header: { 'Idempotency-Key': key } } }),
    );
  }

  /** POST /api/sms/verification/check → `{valid}`: true once for the right, unexpired code. */
  checkVerificationCode(body: CheckCodeRequest): Promise<CheckCodeResponse> {
    return this.once(() => this.api.POST('/api/sms/verification/check', { body }));
  }

  // ------------------------------------------------------------------ appointments
  /** PUT /api/sms/appointments/{id}: stores (or moves) the appointment the reminders are for. */
  upsertAppointment(appointmentId: string | number, body: UpsertAppointmentRequest): Promise<Appointment> {
    return this.once(() =>
      this.api.PUT('/api/sms/appointments/{appointmentId}', {
        body,
        params: { path: { appointmentId: seg(appointmentId) } },
      }),
    );
  }

  /** POST /api/sms/appointments/{id}/remind: the reminder now; one per appointment start. */
  remindAppointment(
    appointmentId: string | number,
    body: RemindAppointmentRequest = {},
  ): Promise<RemindAppointmentResponse> {
    // Idempotent by itself (one reminder per start), so retrying is safe without a key.
    return this.retrying(() =>
      this.api.POST('/api/sms/appointments/{appointmentId}/remind', {
        body,
        params: { path: { appointmentId: seg(appointmentId) } },
      }),
    );
  }

  // ------------------------------------------------------------------ campaigns (admins)
  /** POST /api/sms/campaigns: a draft, or scheduled when `scheduled_for` is set. */
  createCampaign(body: CreateCampaignRequest): Promise<Campaign> {
    return this.once(() => this.api.POST('/api/sms/campaigns', { body }));
  }

  /** POST /api/sms/campaigns/preview: who would get what, and the cost, without storing anything. */
  previewCampaign(body: CreateCampaignRequest): Promise<CampaignPreview> {
    return this.once(() => this.api.POST('/api/sms/campaigns/preview', { body }));
  }

  /** GET /api/sms/campaigns. */
  listCampaigns(query: ListCampaignsQuery = {}): Promise<CampaignPage> {
    return this.once(() => this.api.GET('/api/sms/campaigns', { params: { query } }));
  }

  /** GET /api/sms/campaigns/{id}. */
  getCampaign(campaignId: string): Promise<Campaign> {
    return this.once(() => this.api.GET('/api/sms/campaigns/{id}', { params: { path: { id: campaignId } } }));
  }

  /** POST /api/sms/campaigns/{id}/execute → 202: the campaign starts now. */
  executeCampaign(campaignId: string): Promise<Campaign> {
    return this.once(() =>
      this.api.POST('/api/sms/campaigns/{id}/execute', { params: { path: { id: campaignId } } }),
    );
  }

  /** POST /api/sms/campaigns/{id}/cancel: what was not sent yet is canceled. */
  cancelCampaign(campaignId: string): Promise<Campaign> {
    return this.once(() =>
      this.api.POST('/api/sms/campaigns/{id}/cancel', { params: { path: { id: campaignId } } }),
    );
  }

  /** GET /api/sms/campaigns/{id}/status: counts per state, progress and cost. */
  campaignStatus(campaignId: string): Promise<CampaignStatus> {
    return this.once(() =>
      this.api.GET('/api/sms/campaigns/{id}/status', { params: { path: { id: campaignId } } }),
    );
  }

  /** PUT /api/sms/recipients: upserts the campaign audience (bad rows are rejected one by one). */
  putRecipients(recipients: Recipient[]): Promise<PutRecipientsResponse> {
    return this.once(() => this.api.PUT('/api/sms/recipients', { body: { recipients } }));
  }

  /** GET /api/sms/recipients. */
  listRecipients(query: ListRecipientsQuery = {}): Promise<RecipientPage> {
    return this.once(() => this.api.GET('/api/sms/recipients', { params: { query } }));
  }

  /** GET /api/sms/recipients/{userId}. */
  getRecipient(userId: string | number): Promise<StoredRecipient> {
    return this.once(() =>
      this.api.GET('/api/sms/recipients/{userId}', { params: { path: { userId: seg(userId) } } }),
    );
  }

  /** DELETE /api/sms/recipients/{userId}. */
  async deleteRecipient(userId: string | number): Promise<void> {
    await this.once(() =>
      this.api.DELETE('/api/sms/recipients/{userId}', { params: { path: { userId: seg(userId) } } }),
    );
  }

  // ------------------------------------------------------------------ analytics, alerts, inbound
  /** GET /api/sms/stats: counts, costs and latency for a period, optionally grouped. */
  stats(query: StatsQuery = {}): Promise<Stats> {
    return this.once(() => this.api.GET('/api/sms/stats', { params: { query } }));
  }

  /**
   * GET /api/sms/links/stats (admins): tracked links per campaign (default), template or variant:
   * messages with links, messages clicked (once each), click rate and every hit.
   */
  linkStats(query: LinkStatsQuery = {}): Promise<LinkStats> {
    return this.once(() => this.api.GET('/api/sms/links/stats', { params: { query } }));
  }

  /**
   * PATCH /api/sms/tenants/{id} (super_admin): the given settings change, the others stay; e.g.
   * `updateTenantSettings(7, { link_tracking: true })` turns tracked links on.
   */
  updateTenantSettings(tenantId: number, settings: TenantSettings): Promise<Tenant> {
    return this.once(() =>
      this.api.PATCH('/api/sms/tenants/{id}', { params: { path: { id: tenantId } }, body: { settings } }),
    );
  }

  /** GET /api/sms/stats/channels: messages, delivery and cost per channel (sms, whatsapp, mms). */
  channelStats(query: StatsQuery = {}): Promise<ChannelStats> {
    return this.once(() => this.api.GET('/api/sms/stats/channels', { params: { query } }));
  }

  /** GET /api/sms/reports/costs (admins): the month's cost report as JSON. */
  costReport(query: CostReportQuery): Promise<CostReport> {
    return this.once(() =>
      this.api.GET('/api/sms/reports/costs', { params: { query: { ...query, format: 'json' } } }),
    ) as Promise<CostReport>;
  }

  /** GET /api/sms/reports/costs?format=csv (admins): the same rows as CSV text. */
  costReportCsv(query: CostReportQuery): Promise<string> {
    return this.once(() =>
      this.api.GET('/api/sms/reports/costs', {
        params: { query: { ...query, format: 'csv' } },
        parseAs: 'text',
      }),
    );
  }

  /**
   * GET /api/sms/alerts (admins): cost, failure-rate and provider alerts, newest first, each with
   * its `alert.raised` webhook deliveries counted. Alerts reach the endpoints subscribed to
   * `alert.raised` (`createWebhookEndpoint({ url, events: ['alert.raised'] })`).
   */
  alerts(query: AlertsQuery = {}): Promise<AlertsPage> {
    return this.once(() => this.api.GET('/api/sms/alerts', { params: { query } }));
  }

  /** GET /api/sms/inbound (admins): texts received, with STOP/START/HELP keywords recognized. */
  inbound(query: InboundQuery = {}): Promise<InboundPage> {
    return this.once(() => this.api.GET('/api/sms/inbound', { params: { query } }));
  }

  // ------------------------------------------------------------------ outbound webhooks (admins)
  /** POST /api/sms/webhook-endpoints: the answer carries the signing secret, shown only here. */
  createWebhookEndpoint(body: CreateWebhookEndpointRequest): Promise<WebhookEndpointWithSecret> {
    return this.once(() => this.api.POST('/api/sms/webhook-endpoints', { body }));
  }

  /** GET /api/sms/webhook-endpoints. */
  listWebhookEndpoints(): Promise<WebhookEndpoint[]> {
    return this.once(() => this.api.GET('/api/sms/webhook-endpoints'));
  }

  /** DELETE /api/sms/webhook-endpoints/{id}. */
  async deleteWebhookEndpoint(endpointId: string): Promise<void> {
    await this.once(() =>
      this.api.DELETE('/api/sms/webhook-endpoints/{id}', { params: { path: { id: endpointId } } }),
    );
  }

  /** POST /api/sms/webhook-endpoints/{id}/rotate-secret: the endpoint with its new secret (shown once). */
  rotateWebhookSecret(endpointId: string): Promise<WebhookEndpointWithSecret> {
    return this.once(() =>
      this.api.POST('/api/sms/webhook-endpoints/{id}/rotate-secret', {
        params: { path: { id: endpointId } },
      }),
    );
  }

  /** GET /api/sms/webhook-deliveries/{id}: one delivery with its attempt log. */
  webhookDelivery(deliveryId: string): Promise<WebhookDelivery> {
    return this.once(() =>
      this.api.GET('/api/sms/webhook-deliveries/{id}', { params: { path: { id: deliveryId } } }),
    );
  }

  /** POST /api/sms/webhook-deliveries/{id}/replay → 202: delivered again (same event, new signature). */
  replayWebhookDelivery(deliveryId: string): Promise<Schemas['DeliveryDto']> {
    return this.once(() =>
      this.api.POST('/api/sms/webhook-deliveries/{id}/replay', { params: { path: { id: deliveryId } } }),
    );
  }

  /** GET /api/sms/webhook-deliveries. */
  webhookDeliveries(query: WebhookDeliveriesQuery = {}): Promise<WebhookDeliveriesPage> {
    return this.once(() => this.api.GET('/api/sms/webhook-deliveries', { params: { query } }));
  }

  // ------------------------------------------------------------------ plumbing
  /** One try; an error answer rejects with its typed error. */
  private async once<T>(run: () => Promise<Answer<T>>): Promise<T> {
    return this.unwrap(await this.fetchOnce(run));
  }

  /** A send: the same Idempotency-Key on every try, so a retry can never send twice. */
  private idempotent<T>(opts: SendOptions, run: (key: string) => Promise<Answer<T>>): Promise<T> {
    const key = opts.idempotencyKey ?? randomUUID();
    return this.retrying(() => run(key));
  }

  /** Tries again after a 503, a 409 with Retry-After (same key in flight) or a connection error. */
  private async retrying<T>(run: () => Promise<Answer<T>>): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      let answer: Answer<T>;
      try {
        answer = await this.fetchOnce(run);
      } catch (e) {
        if (attempt < this.retries) {
          await sleep(Math.min(200 * 2 ** attempt, this.maxRetryWaitMs));
          continue;
        }
        throw e;
      }
      const status = answer.response.status;
      const retryAfter = Number(answer.response.headers.get('retry-after') ?? NaN);
      const retryable = status === 503 || (status === 409 && Number.isFinite(retryAfter));
      if (retryable && attempt < this.retries) {
        await sleep(
          Math.min(Number.isFinite(retryAfter) ? retryAfter * 1000 : 200 * 2 ** attempt, this.maxRetryWaitMs),
        );
        continue;
      }
      return this.unwrap(answer);
    }
  }

  private async fetchOnce<T>(run: () => Promise<Answer<T>>): Promise<Answer<T>> {
    try {
      return await run();
    } catch (e) {
      if (e instanceof SmsApiError) throw e;
      throw new SmsConnectionError(`the SMS service could not be reached: ${String(e)}`, e);
    }
  }

  private unwrap<T>(answer: Answer<T>): T {
    if (!answer.response.ok) throw errorFor(answer.response, answer.error);
    return answer.data as T;
  }
}

/** `createSmsClient({ baseUrl, token })`: see {@link SmsClient}. */
export function createSmsClient(opts: SmsClientOptions): SmsClient {
  return new SmsClient(opts);
}
