import { UserIdField } from '../common/dto-fields';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
} from 'class-validator';
import { LANGUAGES, Language, MESSAGE_TYPES, MessageType } from '../core/message-types';
import { MetadataField } from '../messaging';
import { StatusCallbackUrlField } from '../callbacks'; // t2 (callbacks)

import { SmsTemplateEntity } from './template.entity';

const SLUG = /^[a-z0-9][a-z0-9_-]{0,99}$/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_CONTENT = 1600;

export class CreateTemplateDto {
  @ApiProperty({ example: 'welcome_message', description: 'slug: a-z, 0-9, _ and -' })
  @Matches(SLUG, { message: 'template_id must be a slug of a-z, 0-9, _ and - (at most 100)' })
  template_id: string;

  @ApiProperty({ example: 'Welcome Message' })
  @IsString()
  @Length(1, 200)
  name: string;

  @ApiProperty({ example: 'Welcome {{name}}! Your account has been created.' })
  @IsString()
  @Length(1, MAX_CONTENT)
  content_en: string;

  @ApiPropertyOptional({ example: 'Hoş geldiniz {{name}}! Hesabınız oluşturuldu.' })
  @IsOptional()
  @IsString()
  @Length(1, MAX_CONTENT)
  content_tr?: string;

  @ApiProperty({ example: 'general_notification', enum: MESSAGE_TYPES })
  @IsIn(MESSAGE_TYPES)
  message_type: MessageType;

  @ApiProperty({ example: ['name'], description: 'every placeholder used, exactly' })
  @IsArray()
  @ArrayMaxSize(50)
  @ArrayUnique({ message: 'variables must not repeat a name' })
  @Matches(NAME, { each: true, message: 'each variable must be a name of letters, digits and _' })
  variables: string[];
}

/** PUT: the whole template but its id. */
export class ReplaceTemplateDto {
  @ApiProperty({ example: 'Welcome Message' }) @IsString() @Length(1, 200) name: string;
  @ApiProperty({ example: 'Welcome {{name}}! Your account is ready.' })
  @IsString()
  @Length(1, MAX_CONTENT)
  content_en: string;
  @ApiPropertyOptional({
    example: 'Hoş geldiniz {{name}}! Hesabınız hazır.',
    description: 'omitted: the Turkish text stays as it is',
  })
  @IsOptional()
  @IsString()
  @Length(1, MAX_CONTENT)
  content_tr?: string;
  @ApiProperty({ enum: MESSAGE_TYPES, example: 'general_notification' })
  @IsIn(MESSAGE_TYPES)
  message_type: MessageType;
  @ApiProperty({ example: ['name'], description: 'every placeholder used, exactly' })
  @IsArray()
  @ArrayMaxSize(50)
  @ArrayUnique({ message: 'variables must not repeat a name' })
  @Matches(NAME, { each: true, message: 'each variable must be a name of letters, digits and _' })
  variables: string[];
}

/** PATCH: any subset. */
export class PatchTemplateDto {
  @ApiPropertyOptional({ example: 'Welcome' }) @IsOptional() @IsString() @Length(1, 200) name?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, MAX_CONTENT) content_en?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, MAX_CONTENT) content_tr?: string;
  @ApiPropertyOptional({ enum: MESSAGE_TYPES }) @IsOptional() @IsIn(MESSAGE_TYPES) message_type?: MessageType;
  @ApiPropertyOptional()
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @ArrayUnique({ message: 'variables must not repeat a name' })
  @Matches(NAME, { each: true, message: 'each variable must be a name of letters, digits and _' })
  variables?: string[];
}

export class ListTemplatesQueryDto {
  @ApiPropertyOptional({ enum: MESSAGE_TYPES }) @IsOptional() @IsIn(MESSAGE_TYPES) message_type?: MessageType;
  @ApiPropertyOptional()
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  include_inactive?: boolean;
}

export class PreviewTemplateDto {
  @ApiPropertyOptional({ example: { name: 'Ayşe' } }) @IsOptional() @IsObject() variables?: Record<
    string,
    unknown
  >;
  @ApiPropertyOptional({ enum: LANGUAGES }) @IsOptional() @IsIn(LANGUAGES) language?: Language;
}

export class SendTemplatedDto {
  @ApiProperty({ example: '+12025550123' }) @IsString() @Length(1, 64) phone_number: string;
  @ApiProperty({ example: 'appointment_reminder' })
  @Matches(SLUG, { message: 'template_id must be a slug' })
  template_id: string;
  @ApiProperty({
    example: {
      date: 'March 15, 2024',
      time: '2:00 PM',
      trainer_name: 'John Doe',
      location: 'Training Room A',
    },
  })
  @IsObject()
  variables: Record<string, unknown>;
  @ApiPropertyOptional({ enum: LANGUAGES }) @IsOptional() @IsIn(LANGUAGES) language?: Language;
  @UserIdField()
  user_id?: string;
  @MetadataField() metadata?: Record<string, unknown>;
  @StatusCallbackUrlField() status_callback_url?: string; // t2 (callbacks)
}

export class TemplateResponseDto {
  @ApiProperty() template_id: string;
  @ApiProperty() name: string;
  @ApiProperty() message_type: string;
  @ApiProperty() content_en: string;
  @ApiProperty({ nullable: true }) content_tr: string | null;
  @ApiProperty({ description: 'text per language code' }) content: Record<string, string>;
  @ApiProperty() variables: string[];
  @ApiProperty() is_active: boolean;
  @ApiProperty({ description: 'true for a built-in default' }) is_default: boolean;
  @ApiProperty() version: number;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}

export class PreviewResponseDto {
  @ApiProperty() text: string;
  @ApiProperty() encoding: string;
  @ApiProperty() segments: number;
  @ApiProperty() missing_variables: string[];
  @ApiProperty() language_used: string;
}

export function toTemplateResponse(t: SmsTemplateEntity): TemplateResponseDto {
  return {
    template_id: t.templateId,
    name: t.name,
    message_type: t.messageType,
    content_en: t.content.en,
    content_tr: t.content.tr ?? null,
    content: t.content,
    variables: t.variables,
    is_active: t.isActive,
    is_default: t.tenantId === null,
    version: t.version,
    created_at: t.createdAt.toISOString(),
    updated_at: t.updatedAt.toISOString(),
  };
}

export function contentOf(dto: { content_en?: string; content_tr?: string }): Record<string, string> {
  const content: Record<string, string> = {};
  if (dto.content_en !== undefined) content.en = dto.content_en;
  if (dto.content_tr !== undefined) content.tr = dto.content_tr;
  return content;
}
