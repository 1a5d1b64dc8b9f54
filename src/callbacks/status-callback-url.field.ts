import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';
import { MAX_URL_LENGTH } from './url-policy';

/**
 * `status_callback_url` on the send routes: this message's status events (message.sent,
 * .delivered, .failed, .undelivered) are also POSTed there, signed with the secret of the
 * tenant's oldest active webhook endpoint. The accept path checks it with the guard endpoint
 * registration uses (CallbackUrlGuard: syntax, then every address its host resolves to) before the
 * message is stored, and each delivery checks it again.
 */
export function StatusCallbackUrlField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      example: 'https://platform.example.com/sms/status',
      description:
        "https URL that receives this message's status events, signed with the secret of the tenant's oldest active webhook endpoint. Its host must resolve, and only to public addresses (400 otherwise; IPv4 embedded in IPv6 included).",
    }),
    IsOptional(),
    IsString(),
    Length(1, MAX_URL_LENGTH),
  );
}
