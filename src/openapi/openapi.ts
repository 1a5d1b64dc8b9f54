/**
 * The OpenAPI contract. Controllers describe what is theirs (summary, description, body
 * examples, success responses); `completeDocument` adds what every operation shares, from the
 * service's real rules, so a route added later gets it without repeating it:
 * - the shared error body on every status an operation can answer (400 always, since the global
 *   text guard reads every request; 401/403/404/429 on authenticated routes; 413/415 with a body;
 *   409/422 with an Idempotency-Key; 500 and 503 everywhere),
 * - response headers (X-Request-Id on all; Retry-After on 409/429/503; X-RateLimit-* and
 *   Idempotent-Replayed on sends), the X-Tenant-Id request header on authenticated routes,
 * - `security: []` on public routes (health, provider webhooks) and tags with descriptions.
 * `npm run openapi` writes the result to openapi.json without a database or Redis.
 */
import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type {
  HeaderObject,
  OperationObject,
  ParameterObject,
  PathItemObject,
  ReferenceObject,
  ResponseObject,
} from '@nestjs/swagger';
import { ErrorResponseDto } from '../common/api-errors';

export const BEARER = 'bearer';

/** Extension set by `@ApiNoDependencies()`: the route touches neither PostgreSQL nor Redis (no 503). */
export const NO_DEPENDENCIES = 'x-no-dependencies';

/** One line per feature tag, in the order the docs show them. Add yours here. */
export const TAGS: { name: string; description: string }[] = [
  { name: 'messages', description: 'Send, bulk-send, schedule, track, cancel and list SMS messages.' },
  { name: 'templates', description: 'Message templates in English and Turkish, and templated sends.' },
  { name: 'verification', description: 'One-time codes (password reset, 2FA) sent by SMS and checked here.' },
  { name: 'appointments', description: 'Stored appointments whose reminders go out before they start.' },
  { name: 'phone', description: 'Phone number validation and formatting.' },
  { name: 'opt-outs', description: 'Numbers that asked not to be texted (STOP), per tenant.' },
  { name: 'tenants', description: 'Tenant settings (super_admin; an admin reads their own tenant).' },
  { name: 'audit', description: 'Who changed what, for administrative changes.' },
  { name: 'auth', description: 'The caller as the service sees the token.' },
  { name: 'webhooks', description: 'Provider callbacks (public; each provider signs its requests).' },
  { name: 'health', description: 'Liveness and readiness for load balancers and orchestrators (public).' },
];

const DESCRIPTION = [
  'Multi-tenant SMS for the training platform: Twilio with automatic fallback to AWS SNS (a sandbox',
  'provider when neither is configured), English and Turkish templates, bulk sends, scheduling,',
  'delivery tracking, verification codes, appointment reminders, idempotency, rate limits and cost',
  'estimates.',
  '',
  'Authenticate with a platform-signed HS256 JWT (`Authorization: Bearer …`; claims `sub`,',
  '`tenant_id`, `roles`, `exp`). Every error answers the same JSON body',
  '(`ErrorResponse`: `statusCode`, `error`, `message`, `details`). Every response carries',
  '`X-Request-Id` (yours when you send a valid one, else a new UUID); quote it when reporting a',
  'problem.',
].join('\n');

export function documentConfig(): Omit<OpenAPIObject, 'paths'> {
  return new DocumentBuilder()
    .setTitle('SMS service')
    .setDescription(DESCRIPTION)
    .setVersion('1.0')
    .setLicense('Proprietary (internal use)', 'https://example.com/licenses/internal')
    .addServer('/', 'this service (the host serving this document)')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, BEARER)
    .build();
}

/** The whole document for a created (or preview) Nest application. */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const doc = SwaggerModule.createDocument(app, documentConfig(), {
    extraModels: [ErrorResponseDto],
    operationIdFactory: (controller, method) => `${controller.replace(/Controller$/, '')}_${method}`,
  });
  return completeDocument(doc);
}

const ERROR_REF = { $ref: '#/components/schemas/ErrorResponseDto' };

const HEADERS: Record<string, HeaderObject> = {
  'X-Request-Id': {
    description: 'the request id: the one sent (1-100 of A-Z a-z 0-9 _ . -) or a new UUID',
    schema: { type: 'string' },
  },
  'Retry-After': { description: 'seconds to wait before trying again', schema: { type: 'integer' } },
  'X-RateLimit-Limit': {
    description: 'recipients this user may send to per rolling hour',
    schema: { type: 'integer' },
  },
  'X-RateLimit-Remaining': {
    description: 'recipients left in the current window',
    schema: { type: 'integer' },
  },
  'X-RateLimit-Reset': {
    description: 'Unix time (seconds) when the oldest counted send leaves the window',
    schema: { type: 'integer' },
  },
  'Idempotent-Replayed': {
    description: '`true` when this is the stored answer to an earlier request with the same Idempotency-Key',
    schema: { type: 'string', enum: ['true'] },
  },
};

const ERRORS: Record<string, { description: string; headers?: string[]; example: ErrorResponseDto }> = {
  '400': {
    description: 'invalid input (the field is named in `details`); nothing changed',
    example: {
      statusCode: 400,
      error: 'Bad Request',
      message: 'phone_number: phone_number is not valid (too_short)',
      details: [{ field: 'phone_number', errors: ['phone_number is not valid (too_short)'] }],
    },
  },
  '402': {
    description:
      "the tenant's monthly_spend_cap would be passed by this request's estimate; nothing was stored (raising the cap, or the next month, helps; waiting does not)",
    example: {
      statusCode: 402,
      error: 'Payment Required',
      message: 'monthly spend cap reached: 99.9921 of 100 USD spent this month',
      details: [
        {
          rule: 'monthly_spend_cap',
          errors: ['monthly spend cap reached: 99.9921 of 100 USD spent this month'],
          cap: '100',
          month_to_date: '99.9921',
          estimated_cost: '0.0079',
          currency: 'USD',
        },
      ],
    },
  },
  '401': {
    description: 'missing, malformed or expired bearer token',
    example: { statusCode: 401, error: 'Unauthorized', message: 'missing or invalid bearer token' },
  },
  '403': {
    description: 'a role is missing, or the tenant is deactivated',
    example: { statusCode: 403, error: 'Forbidden', message: 'requires role admin or super_admin' },
  },
  '404': {
    description: 'unknown, or another tenant’s (indistinguishable on purpose)',
    example: { statusCode: 404, error: 'Not Found', message: 'message not found' },
  },
  '409': {
    description:
      'a request with the same Idempotency-Key is still in progress (retry after Retry-After), or the state forbids the change',
    headers: ['Retry-After'],
    example: {
      statusCode: 409,
      error: 'Conflict',
      message:
        'Idempotency-Key "reminder-123" is in use by a request still in progress; retry after it completes',
      details: [
        {
          field: 'Idempotency-Key',
          errors: [
            'Idempotency-Key "reminder-123" is in use by a request still in progress; retry after it completes',
          ],
          rule: 'idempotency_key_in_flight',
          retry_after_seconds: 1,
        },
      ],
    },
  },
  '413': {
    description: 'the body is larger than 1 MB',
    example: { statusCode: 413, error: 'Payload Too Large', message: 'request body exceeds 1 MiB' },
  },
  '415': {
    description: 'the body is not JSON (or the Content-Encoding is not supported)',
    example: {
      statusCode: 415,
      error: 'Unsupported Media Type',
      message: 'unsupported Content-Encoding (accepted: identity, gzip, deflate, br)',
    },
  },
  '422': {
    description: 'the Idempotency-Key was used before with another body',
    example: {
      statusCode: 422,
      error: 'Unprocessable Entity',
      message: 'Idempotency-Key "reminder-123" was already used with a different request body',
      details: [
        {
          field: 'Idempotency-Key',
          errors: ['Idempotency-Key "reminder-123" was already used with a different request body'],
          rule: 'idempotency_key_reused',
        },
      ],
    },
  },
  '429': {
    description:
      'a rate limit (requests per minute, recipients per hour, or codes per number); see Retry-After',
    headers: ['Retry-After'],
    example: {
      statusCode: 429,
      error: 'Too Many Requests',
      message: 'rate limit exceeded: 1000 of 1000 recipients used in the last hour, this request needs 1',
      details: [
        {
          rule: 'recipient_rate_limit',
          errors: [
            'rate limit exceeded: 1000 of 1000 recipients used in the last hour, this request needs 1',
          ],
          limit: 1000,
          used: 1000,
          requested: 1,
          retry_after_seconds: 1260,
        },
      ],
    },
  },
  '500': {
    description: 'an unexpected error; `errorId` is in the service log',
    example: {
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'internal error',
      errorId: '6f1c2b1e-2f1a-4c1e-9a55-0d6b1c7e9f10',
    },
  },
  '503': {
    description: 'PostgreSQL or Redis is unreachable: nothing was stored; retry after Retry-After',
    headers: ['Retry-After'],
    example: {
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'database is unavailable; nothing was stored, retry after 5 s',
    },
  },
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/** Adds the shared parts to every operation (see the file comment). Idempotent. */
export function completeDocument(doc: OpenAPIObject): OpenAPIObject {
  doc.tags = TAGS;
  doc.components = doc.components ?? {};
  doc.components.headers = { ...doc.components.headers, ...HEADERS };
  for (const item of Object.values(doc.paths) as PathItemObject[]) {
    for (const method of METHODS) {
      const op = item[method];
      if (op) completeOperation(op);
    }
  }
  return doc;
}

function completeOperation(op: OperationObject & { [NO_DEPENDENCIES]?: boolean }): void {
  const authenticated = (op.security ?? []).some((s) => BEARER in s);
  if (!authenticated) op.security = [];
  const params = (op.parameters ?? []) as (ParameterObject | ReferenceObject)[];
  const hasHeader = (name: string) =>
    params.some((p) => 'name' in p && p.in === 'header' && p.name.toLowerCase() === name.toLowerCase());
  const idempotent = hasHeader('Idempotency-Key');
  if (authenticated && !hasHeader('X-Tenant-Id')) {
    params.push({
      name: 'X-Tenant-Id',
      in: 'header',
      required: false,
      description: 'super_admin only: act for this tenant instead of the token’s',
      schema: { type: 'integer', minimum: 1 },
    });
  }
  if (params.length) op.parameters = params;

  const statuses = ['400', '500'];
  if (!op[NO_DEPENDENCIES]) statuses.push('503');
  delete op[NO_DEPENDENCIES];
  if (authenticated) statuses.push('401', '403', '404', '429');
  if (op.requestBody) statuses.push('413', '415');
  // The routes with an Idempotency-Key are the accept routes: each can meet the spend cap.
  if (idempotent) statuses.push('402', '409', '422');
  for (const status of Object.keys(op.responses)) if (Number(status) >= 400) statuses.push(status);
  for (const status of new Set(statuses)) {
    const spec = ERRORS[status];
    const existing = op.responses[status] as ResponseObject | undefined;
    if (existing?.content) continue; // the route documents its own body
    op.responses[status] = {
      description: existing?.description || spec?.description || 'error',
      content: { 'application/json': { schema: ERROR_REF, ...(spec ? { example: spec.example } : {}) } },
    };
  }

  for (const [status, response] of Object.entries(op.responses) as [string, ResponseObject][]) {
    const names = ['X-Request-Id', ...(ERRORS[status]?.headers ?? [])];
    if (idempotent && status.startsWith('2'))
      names.push('X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'Idempotent-Replayed');
    if (idempotent && status === '429')
      names.push('X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset');
    response.headers = {
      ...response.headers,
      ...Object.fromEntries(names.map((n) => [n, { $ref: `#/components/headers/${n}` }])),
    };
  }
  op.responses = Object.fromEntries(Object.entries(op.responses).sort(([a], [b]) => a.localeCompare(b)));
}
