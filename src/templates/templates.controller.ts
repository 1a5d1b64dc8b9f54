import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { CurrentPrincipal, Roles } from '../auth/decorators';
import { Principal, ROLE_ADMIN } from '../auth/principal';
import { SendResponseDto, smartEncodingField } from '../messaging';
import { toSendResponse } from '../messaging';
import { AcceptResult, SendContext } from '../messaging';
import { AcceptedReply, Reply, SendCtx, SendRoute } from '../messaging';
import { TemplatedSender } from './templated-sender';
import { channelInput } from '../messaging';
import {
  contentOf,
  CreateTemplateDto,
  ListTemplatesQueryDto,
  PatchTemplateDto,
  PreviewResponseDto,
  PreviewTemplateDto,
  ReplaceTemplateDto,
  SendTemplatedDto,
  TemplateResponseDto,
  toTemplateResponse,
  variantsOf,
  VariantStatsResponseDto,
} from './templates.dto';
import { toVariantStatsResponse } from './variant-stats';
import { TemplatesService } from './templates.service';
import { SmsTemplateEntity } from './template.entity';
import { ApiBriefBody } from '../openapi/examples';

export class SendTemplatedResponse extends SendResponseDto {
  @ApiProperty({ example: 'appointment_reminder' }) template_id: string;
  @ApiProperty({
    example: 'en',
    description: 'the language actually sent (en when the template lacks the one asked for)',
  })
  language_used: string;
  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description:
      "the template's A/B variant sent (the same for a resend to the number); null: no test running",
  })
  variant: string | null;
}

export function toSendTemplatedResponse(r: AcceptResult): SendTemplatedResponse {
  return {
    ...toSendResponse(r),
    template_id: r.templateId as string,
    language_used: r.language,
    variant: r.variant ?? null,
  };
}

@ApiTags('templates')
@ApiErrors()
@ApiBearerAuth()
@Controller('api/sms')
export class TemplatesController {
  constructor(
    private readonly templates: TemplatesService,
    private readonly sender: TemplatedSender,
  ) {}

  @Get('templates')
  @ApiOperation({
    summary: 'List templates',
    description:
      "The active built-in defaults and the tenant's own templates; a tenant template with a default's id replaces it for that tenant.",
  })
  @ApiOkResponse({ type: [TemplateResponseDto] })
  async list(
    @CurrentPrincipal() p: Principal,
    @Query() q: ListTemplatesQueryDto,
  ): Promise<TemplateResponseDto[]> {
    const rows = await this.templates.list(p.tenantId, {
      messageType: q.message_type,
      includeInactive: q.include_inactive,
    });
    const smartEncoding = await this.templates.smartEncodingSetting(p.tenantId);
    return rows.map((t) => toTemplateResponse(t, smartEncoding));
  }

  @Get('templates/:templateId')
  @ApiOperation({
    summary: 'Get a template',
    description: "One active template (the tenant's own, else the built-in default).",
  })
  @ApiOkResponse({ type: TemplateResponseDto })
  async get(@CurrentPrincipal() p: Principal, @Param('templateId') id: string): Promise<TemplateResponseDto> {
    return this.present(p, await this.templates.get(p.tenantId, id));
  }

  @Post('templates')
  @ApiBriefBody(CreateTemplateDto, 'createTemplate')
  @ApiOperation({
    summary: 'Create a template',
    description:
      'Admins. The placeholders of every language must be exactly `variables`; 409 when the tenant already has that id.',
  })
  @Roles(ROLE_ADMIN)
  @ApiCreatedResponse({ type: TemplateResponseDto })
  async create(
    @CurrentPrincipal() p: Principal,
    @Body() dto: CreateTemplateDto,
  ): Promise<TemplateResponseDto> {
    const row = await this.templates.create(
      p.tenantId,
      {
        templateId: dto.template_id,
        name: dto.name,
        messageType: dto.message_type,
        transactional: dto.transactional,
        exact: dto.exact,
        content: contentOf(dto),
        variables: dto.variables,
        validitySeconds: dto.validity_seconds,
        variants: variantsOf(dto),
        channel: dto.channel,
        contentSid: dto.content_sid,
      },
      p,
    );
    return this.present(p, row);
  }

  @Put('templates/:templateId')
  @ApiOperation({
    summary: 'Replace a template',
    description:
      "Admins. Replaces the tenant's template (`version` + 1). Built-in defaults are read-only (403): create a template with the same id to override one.",
  })
  @Roles(ROLE_ADMIN)
  @ApiOkResponse({ type: TemplateResponseDto })
  async replace(
    @CurrentPrincipal() p: Principal,
    @Param('templateId') id: string,
    @Body() dto: ReplaceTemplateDto,
  ): Promise<TemplateResponseDto> {
    const row = await this.templates.update(
      p.tenantId,
      id,
      {
        name: dto.name,
        messageType: dto.message_type,
        transactional: dto.transactional,
        exact: dto.exact,
        content: contentOf(dto),
        variables: dto.variables,
        validitySeconds: dto.validity_seconds,
        variants: variantsOf(dto),
        channel: dto.channel,
        contentSid: dto.content_sid,
      },
      p,
    );
    return this.present(p, row);
  }

  @Patch('templates/:templateId')
  @ApiOperation({
    summary: 'Change part of a template',
    description: "Admins. Changes the given fields of the tenant's template (`version` + 1).",
  })
  @Roles(ROLE_ADMIN)
  @ApiOkResponse({ type: TemplateResponseDto })
  async patch(
    @CurrentPrincipal() p: Principal,
    @Param('templateId') id: string,
    @Body() dto: PatchTemplateDto,
  ): Promise<TemplateResponseDto> {
    const content = contentOf(dto);
    const row = await this.templates.update(
      p.tenantId,
      id,
      {
        name: dto.name,
        messageType: dto.message_type,
        transactional: dto.transactional,
        exact: dto.exact,
        content: Object.keys(content).length ? content : undefined,
        variables: dto.variables,
        validitySeconds: dto.validity_seconds,
        variants: variantsOf(dto),
        channel: dto.channel,
        contentSid: dto.content_sid,
      },
      p,
    );
    return this.present(p, row);
  }

  @Delete('templates/:templateId')
  @ApiOperation({
    summary: 'Deactivate a template',
    description:
      "Admins. Deactivates the tenant's template (the default with that id shows again); a default cannot be deleted (403).",
  })
  @Roles(ROLE_ADMIN)
  @HttpCode(204)
  async remove(@CurrentPrincipal() p: Principal, @Param('templateId') id: string): Promise<void> {
    await this.templates.deactivate(p.tenantId, id, p);
  }

  @Post('templates/:templateId/preview')
  @ApiOperation({
    summary: 'Preview a template',
    description:
      "Renders the template with the given variables: the text as it would be sent (after the tenant's smart encoding), its encoding and segments, and missing variables; `smart_encoding` when smart encoding changes it. Sends nothing.",
  })
  @HttpCode(200)
  @ApiOkResponse({ type: PreviewResponseDto })
  async preview(
    @CurrentPrincipal() p: Principal,
    @Param('templateId') id: string,
    @Body() dto: PreviewTemplateDto,
  ): Promise<PreviewResponseDto> {
    const r = await this.templates.preview(p.tenantId, id, dto.variables ?? {}, dto.language, dto.variant);
    return {
      text: r.text,
      encoding: r.analysis.encoding,
      segments: r.analysis.segments,
      missing_variables: r.missing,
      language_used: r.languageUsed,
      ...smartEncodingField(r.smartEncoding),
    };
  }

  @Get('templates/:templateId/variants')
  @ApiOperation({
    summary: "A template's A/B test: outcomes per variant",
    description:
      "The running test's variants since it began: messages, delivered, clicked (null until tracked links are counted), converted (codes) and cost, each rate, and per outcome whether the leader beats the runner-up (two-proportion z-test, p < 0.05, at least 100 messages each). The tenant's own templates only (404 otherwise).",
  })
  @ApiOkResponse({ type: VariantStatsResponseDto })
  async variantStats(
    @CurrentPrincipal() p: Principal,
    @Param('templateId') id: string,
  ): Promise<VariantStatsResponseDto> {
    return toVariantStatsResponse(
      await this.templates.variantStats(p.tenantId, id),
      this.templates.currency(),
    );
  }

  @Post('templates/:templateId/variants/:key/promote')
  @ApiOperation({
    summary: 'End an A/B test by promoting a variant',
    description:
      "Admins. The variant's texts become the template's (`version` + 1) and the test ends (variants null); audited as `template.promote_variant`. 404 for an unknown template or a variant the running test does not have.",
  })
  @Roles(ROLE_ADMIN)
  @HttpCode(200)
  @ApiOkResponse({ type: TemplateResponseDto })
  async promote(
    @CurrentPrincipal() p: Principal,
    @Param('templateId') id: string,
    @Param('key') key: string,
  ): Promise<TemplateResponseDto> {
    return this.present(p, await this.templates.promoteVariant(p.tenantId, id, key, p));
  }

  private async present(p: Principal, t: SmsTemplateEntity): Promise<TemplateResponseDto> {
    return toTemplateResponse(t, await this.templates.smartEncodingSetting(p.tenantId));
  }

  @Post('send-templated')
  @ApiBriefBody(SendTemplatedDto, 'sendTemplated')
  @ApiOperation({
    summary: 'Send a templated SMS',
    description:
      'Renders a template in the requested language (falling back to English) and sends it like /send: 202, Idempotency-Key, rate limits.',
  })
  @SendRoute(SendTemplatedResponse)
  async sendTemplated(
    @SendCtx() ctx: SendContext,
    @Body() dto: SendTemplatedDto,
    @Reply() reply: AcceptedReply,
  ): Promise<SendTemplatedResponse> {
    const accepted = await this.sender.send(ctx, {
      phoneNumber: dto.phone_number,
      templateId: dto.template_id,
      variables: dto.variables,
      language: dto.language,
      userId: dto.user_id,
      metadata: dto.metadata,
      statusCallbackUrl: dto.status_callback_url ?? null,
      validitySeconds: dto.validity_seconds ?? null,
      channel: channelInput(dto), // channels (issue 25)
    });
    return reply.present(accepted, toSendTemplatedResponse);
  }
}
