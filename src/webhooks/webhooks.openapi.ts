import { applyDecorators } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiHeader,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiQuery,
  ApiResponse,
} from '@nestjs/swagger';

/** The providers that call us back, and how each signs its requests. */
const PROVIDER_PARAM = ApiParam({
  name: 'provider',
  enum: ['twilio'],
  description: 'the provider calling back; an unknown or unconfigured one answers 404',
});
const SIGNATURE = ApiHeader({
  name: 'X-Twilio-Signature',
  required: true,
  description:
    'Twilio: base64 HMAC-SHA1 of PUBLIC_BASE_URL + path + the sorted form fields, keyed with TWILIO_AUTH_TOKEN; a wrong or missing one answers 403',
});
const ACCOUNT_QUERY = ApiQuery({
  name: 'account',
  required: false,
  type: String,
  description:
    "a tenant's own provider account (the URL the service gave that account): verified with that account's auth token instead of TWILIO_AUTH_TOKEN; an unknown account answers 404",
});
const FORM_BODY = ApiBody({
  description: 'the provider’s own form fields, as it sends them',
  schema: { type: 'object', additionalProperties: { type: 'string' } },
});

/** OpenAPI for the public provider callbacks (status receipts and inbound messages). */
export function ApiProviderWebhook(kind: 'status' | 'inbound'): MethodDecorator {
  const common = [
    PROVIDER_PARAM,
    ACCOUNT_QUERY,
    SIGNATURE,
    FORM_BODY,
    ApiConsumes('application/x-www-form-urlencoded'),
    ApiResponse({ status: 403, description: 'the signature is missing or wrong; nothing was applied' }),
    ApiResponse({ status: 404, description: 'no configured provider of that name takes this callback' }),
  ];
  if (kind === 'status') {
    return applyDecorators(
      ApiOperation({
        summary: 'Delivery status callback',
        description:
          'Public, called by the provider (Twilio’s StatusCallback, e.g. MessageSid + MessageStatus + ErrorCode + Price). Verified by its signature, then the message’s status moves; repeated and out-of-order callbacks are deduplicated. Point the provider at PUBLIC_BASE_URL/api/sms/webhooks/twilio/status.',
      }),
      ...common,
      ApiResponse({ status: 204, description: 'applied (or already known)' }),
    );
  }
  return applyDecorators(
    ApiOperation({
      summary: 'Inbound message callback',
      description:
        'Public, called by the provider when someone texts one of our numbers (Twilio: From, To, Body, MessageSid). Verified by its signature and parsed; answered with what the provider expects (an empty TwiML reply) or 204.',
    }),
    ...common,
    ApiProduces('text/xml'),
    ApiResponse({
      status: 200,
      description: 'the provider’s expected reply (Twilio: empty TwiML)',
      content: {
        'text/xml': {
          schema: { type: 'string' },
          example: '<?xml version="1.0" encoding="UTF-8"?><Response></Response>',
        },
      },
    }),
    ApiResponse({ status: 204, description: 'received; nothing to reply' }),
  );
}
