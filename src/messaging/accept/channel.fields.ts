import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
} from 'class-validator';
import { Channel, CHANNELS, CONTENT_SID_PATTERN, MAX_MEDIA_URLS, MMS_COUNTRIES } from '../../core/channels';
import type { ChannelInput } from './accept.types';

/** The request fields every send route, templated send and campaign takes for its channel (issue 25). */
export interface ChannelFieldsDto {
  channel?: Channel;
  media_urls?: string[];
  content_sid?: string;
  content_variables?: Record<string, string>;
  fallback_channel?: 'sms';
}

export function ChannelField(description?: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      enum: CHANNELS,
      default: 'sms',
      description:
        description ??
        "sms (default, every provider); whatsapp (Twilio's WhatsApp sender: free text inside the recipient's 24-hour session window, else the approved template content_sid); mms (Twilio, with media_urls, to " +
          MMS_COUNTRIES.join(', ') +
          ' numbers only). See docs/sending.md, Channels',
    }),
    IsOptional(),
    IsIn(CHANNELS, { message: `channel must be one of ${CHANNELS.join(', ')}` }),
  );
}

export function MediaUrlsField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: [String],
      maxItems: MAX_MEDIA_URLS,
      example: ['https://cdn.example.com/flyer.jpg'],
      description: `mms only (required there): 1 to ${MAX_MEDIA_URLS} https URLs Twilio fetches the media from; each host must resolve, and only to public addresses, as for status_callback_url (400 otherwise)`,
    }),
    IsOptional(),
    IsArray(),
    ArrayMinSize(1),
    ArrayMaxSize(MAX_MEDIA_URLS),
    IsString({ each: true }),
    MaxLength(2048, { each: true }),
  );
}

/** `clearable`: a PATCH field, where null removes the stored SID (and the OpenAPI says so). */
export function ContentSidField(opts: { clearable?: boolean } = {}): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: String,
      example: 'HX' + '0'.repeat(32),
      ...(opts.clearable ? { nullable: true } : {}),
      description:
        "whatsapp only: an approved Twilio Content API template (HX…), sent when the recipient's 24-hour session window is closed (required then: 400 naming content_sid otherwise); inside the window the message text goes as free text" +
        (opts.clearable ? '. null removes the stored one' : ''),
    }),
    IsOptional(),
    IsString(),
    Matches(CONTENT_SID_PATTERN, {
      message: 'content_sid must be a Twilio Content SID (HX and 32 hex digits)',
    }),
  );
}

export function ContentVariablesField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: 'object',
      additionalProperties: { type: 'string' },
      example: { '1': 'Ada', '2': 'tomorrow 14:00' },
      description:
        "whatsapp only, with content_sid: the template's variables, sent as Twilio's ContentVariables JSON",
    }),
    IsOptional(),
    IsObject(),
  );
}

export function FallbackChannelField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      enum: ['sms'],
      description:
        "whatsapp only: a message that fails definitively (failed, undelivered) or has no delivery receipt within the tenant's whatsapp_fallback_seconds goes out once as an SMS, a new message linked to it (fallback_message_id); see docs/sending.md, Channels",
    }),
    IsOptional(),
    IsIn(['sms'], { message: 'fallback_channel must be sms' }),
  );
}

/** Applies the five channel fields to a DTO class's properties (one decorator each). */
export class ChannelFields implements ChannelFieldsDto {
  @ChannelField() channel?: Channel;
  @MediaUrlsField() media_urls?: string[];
  @ContentSidField() content_sid?: string;
  @ContentVariablesField() content_variables?: Record<string, string>;
  @FallbackChannelField() fallback_channel?: 'sms';
}

/** The accept path's channel input from a request's fields (absent fields stay absent). */
export function channelInput(dto: ChannelFieldsDto): ChannelInput {
  return {
    channel: dto.channel,
    mediaUrls: dto.media_urls,
    contentSid: dto.content_sid,
    contentVariables: dto.content_variables,
    fallbackChannel: dto.fallback_channel ?? null,
  };
}

/** Not strings: a 400 naming content_variables (checked by the accept path too, for the SDK). */
export function contentVariablesProblem(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) return 'content_variables must be an object';
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > 100) return 'content_variables has more than 100 variables';
  for (const [k, x] of entries) {
    if (!/^[A-Za-z0-9_]{1,64}$/.test(k))
      return `content_variables key "${k.slice(0, 64)}" is not a variable name`;
    if (typeof x !== 'string' || x.length > 1024)
      return `content_variables.${k} must be a string of at most 1024 characters`;
  }
  return null;
}
