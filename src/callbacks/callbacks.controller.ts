import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOperation,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { AuditService } from '../audit';
import { CurrentPrincipal, Roles } from '../auth/decorators';
import { Principal, ROLE_ADMIN } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { ConflictError, NotFoundError } from '../common/errors';
import { Clock } from '../common/clock';
import {
  CreateEndpointDto,
  decodeDeliveryCursor,
  DeliveriesPageDto,
  DeliveriesQueryDto,
  DeliveryDetailDto,
  DeliveryDto,
  encodeDeliveryCursor,
  EndpointDto,
  EndpointWithSecretDto,
  toDeliveryDto,
  toEndpointDto,
} from './callbacks.dto';
import { DeliveriesRepository } from './deliveries.repository';
import { EndpointsService } from './endpoints.service';

@ApiTags('webhooks (outbound)')
@ApiErrors()
@ApiBearerAuth()
@Roles(ROLE_ADMIN)
@Controller('api/sms')
export class CallbacksController {
  constructor(
    private readonly endpoints: EndpointsService,
    private readonly deliveries: DeliveriesRepository,
    private readonly clock: Clock,
    private readonly audit: AuditService,
  ) {}

  @Post('webhook-endpoints')
  @ApiOperation({
    summary: 'Register a webhook endpoint',
    description:
      'Tenant admin. The signing secret is in this answer only; store it. https only (WEBHOOK_ALLOW_INSECURE lifts that for tests); private and loopback addresses are refused.',
  })
  @ApiCreatedResponse({ type: EndpointWithSecretDto, description: 'the secret is shown only here' })
  async create(
    @CurrentPrincipal() p: Principal,
    @Body() dto: CreateEndpointDto,
  ): Promise<EndpointWithSecretDto> {
    const { endpoint, secret } = await this.endpoints.create(p, dto);
    return { ...toEndpointDto(endpoint), secret };
  }

  @Get('webhook-endpoints')
  @ApiOperation({
    summary: "List the tenant's webhook endpoints",
    description: 'Tenant admin. Secrets are never listed.',
  })
  @ApiOkResponse({ type: [EndpointDto] })
  async list(@CurrentPrincipal() p: Principal): Promise<EndpointDto[]> {
    return (await this.endpoints.list(p.tenantId)).map(toEndpointDto);
  }

  @Delete('webhook-endpoints/:id')
  @ApiOperation({
    summary: 'Delete a webhook endpoint',
    description: "Tenant admin. Another tenant's id is a 404.",
  })
  @HttpCode(204)
  @ApiNoContentResponse()
  async remove(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<void> {
    await this.endpoints.remove(p, id);
  }

  @Post('webhook-endpoints/:id/rotate-secret')
  @ApiOperation({
    summary: "Rotate an endpoint's signing secret",
    description: 'Tenant admin. The new secret is in this answer only; the old one stops signing at once.',
  })
  @HttpCode(200)
  @ApiOkResponse({ type: EndpointWithSecretDto, description: 'the new secret, shown only here' })
  async rotate(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<EndpointWithSecretDto> {
    const { endpoint, secret } = await this.endpoints.rotateSecret(p, id);
    return { ...toEndpointDto(endpoint), secret };
  }

  @Post('webhook-endpoints/:id/resume')
  @ApiOperation({
    summary: 'Resume a paused endpoint',
    description:
      "Tenant admin. Lifts a pause (or a backoff) and forgets the failures: the endpoint's waiting deliveries are sent again at once. Harmless on a healthy endpoint. Another tenant's id is a 404.",
  })
  @HttpCode(200)
  @ApiOkResponse({ type: EndpointDto })
  async resume(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<EndpointDto> {
    return toEndpointDto(await this.endpoints.resume(p, id));
  }

  @Get('webhook-deliveries')
  @ApiOperation({
    summary: 'List webhook deliveries',
    description:
      'Tenant admin. Each event delivery with its status, attempts and last answer; filters and cursor paging.',
  })
  @ApiOkResponse({ type: DeliveriesPageDto })
  async deliveriesPage(
    @CurrentPrincipal() p: Principal,
    @Query() q: DeliveriesQueryDto,
  ): Promise<DeliveriesPageDto> {
    const limit = q.limit ?? 50;
    const rows = await this.deliveries.list(p.tenantId, {
      status: q.status,
      eventType: q.event_type,
      messageId: q.message_id,
      endpointId: q.endpoint_id,
      from: q.from,
      to: q.to,
      before: q.cursor ? decodeDeliveryCursor(q.cursor) : undefined,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      items: page.map(toDeliveryDto),
      next_cursor: rows.length > limit ? encodeDeliveryCursor(page[page.length - 1]) : null,
    };
  }

  @Get('webhook-deliveries/:id')
  @ApiOperation({
    summary: 'One webhook delivery with its attempts',
    description: "Tenant admin. Another tenant's id is a 404.",
  })
  @ApiOkResponse({ type: DeliveryDetailDto })
  async delivery(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<DeliveryDetailDto> {
    const d = await this.deliveries.findOne(p.tenantId, id);
    if (!d) throw new NotFoundError(`webhook delivery ${id} not found`);
    const attempts = await this.deliveries.attempts(p.tenantId, d.id);
    return {
      ...toDeliveryDto(d),
      attempt_log: attempts.map((a) => ({
        at: a.at.toISOString(),
        status_code: a.statusCode,
        error: a.error,
        duration_ms: a.durationMs,
      })),
    };
  }

  @Post('webhook-deliveries/:id/replay')
  @ApiOperation({
    summary: 'Replay a webhook delivery',
    description:
      'Tenant admin. Sends the same event (same id) again and resumes its endpoint when paused or backed off. A pending delivery of a paused or backed-off endpoint is sent now; one of a healthy endpoint is a 409.',
  })
  @HttpCode(202)
  @ApiOkResponse({
    type: DeliveryDto,
    description: 'queued again (same event id); 409 while still pending to an endpoint that is not paused',
  })
  async replay(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<DeliveryDto> {
    const existing = await this.deliveries.findOne(p.tenantId, id);
    if (!existing) throw new NotFoundError(`webhook delivery ${id} not found`);
    const r = await this.deliveries.replay(p.tenantId, id, this.clock.now());
    if (r === null) throw new NotFoundError(`webhook delivery ${id} not found`);
    if (r === 'pending') throw new ConflictError(`webhook delivery ${id} is still pending`);
    await this.audit.record(
      p,
      'webhook_delivery.replay',
      { type: 'webhook_delivery', id },
      { status: existing.status },
      { status: r.delivery.status, ...(r.resumed ? { resumed: true } : {}) },
    );
    return toDeliveryDto(r.delivery);
  }
}
