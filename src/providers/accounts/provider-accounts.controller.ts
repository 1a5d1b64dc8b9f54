import { Body, Controller, Delete, Get, HttpCode, Param, ParseIntPipe, Put } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { AuditService } from '../../audit';
import { CurrentPrincipal, Roles } from '../../auth/decorators';
import { isSuperAdmin, Principal, ROLE_ADMIN } from '../../auth/principal';
import { ApiErrors } from '../../common/api-errors';
import { AppError, NotFoundError, ValidationFailedError } from '../../common/errors';
import { Clock } from '../../common/clock';
import { SmsRouter } from '../providers.module';
import { ProviderError } from '../sms-provider';
import { parseAccountInput } from './account-input';
import { ProviderAccountBodyDto, ProviderAccountDto, ProviderAccountsDto } from './provider-accounts.dto';
import {
  ACCOUNT_PROVIDERS,
  AccountProvider,
  AccountView,
  ProviderAccountsStore,
} from './provider-accounts.store';

/**
 * Tenants' own provider accounts (issue 23, item 4): a tenant's admin (or super_admin) sets its own
 * Twilio or AWS account; the tenant's messages then go through it. Credentials are checked with a
 * harmless read call before anything is stored, sealed with envelope encryption, never returned
 * (only the last 4 characters), and every change is audited without them.
 */
@ApiTags('tenants')
@ApiErrors()
@ApiBearerAuth()
@Roles(ROLE_ADMIN)
@Controller('api/sms/tenants/:id/provider-accounts')
export class ProviderAccountsController {
  constructor(
    private readonly store: ProviderAccountsStore,
    private readonly router: SmsRouter,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  @Get()
  @ApiOperation({
    summary: "A tenant's own provider accounts",
    description:
      "An admin of the tenant, or super_admin. What is set, never a secret: the last 4 characters of each credential, the sender fields, when it was checked, and this process's circuit for it. Another tenant: 404.",
  })
  @ApiOkResponse({ type: ProviderAccountsDto })
  async list(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseIntPipe) id: number,
  ): Promise<ProviderAccountsDto> {
    const views = await this.store.list(ownTenant(p, id));
    const circuits = views.length ? await this.router.accountCircuits(id) : {};
    return { accounts: views.map((v) => toDto(v, circuits[v.provider] ?? null)) };
  }

  /** Checked with a read call first: a failing check stores nothing. Audited (`provider_account.set`). */
  @Put(':provider')
  @ApiOperation({
    summary: "Set a tenant's own Twilio or AWS (SNS) account",
    description:
      "An admin of the tenant, or super_admin. twilio: account_sid, auth_token, and phone_number or messaging_service_sid. sns: access_key_id, secret_access_key, region, optional origination_identity. The credentials are checked first with a harmless read (Twilio: the account resource; SNS: GetSMSAttributes, so the key needs sns:GetSMSAttributes): refused credentials answer 400 naming the reason and nothing is stored. Replaces the tenant's account of that provider. From then on the tenant's messages go through its own account(s) only, never the operator's. 503 when the service has no PROVIDER_CREDENTIALS_KEY. Another tenant: 404.",
  })
  @ApiParam({ name: 'provider', enum: ACCOUNT_PROVIDERS })
  @ApiOkResponse({ type: ProviderAccountDto })
  async set(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseIntPipe) id: number,
    @Param('provider') provider: string,
    @Body() body: ProviderAccountBodyDto,
  ): Promise<ProviderAccountDto> {
    const tenantId = ownTenant(p, id);
    const name = accountProvider(provider);
    const parsed = parseAccountInput(name, body as Record<string, unknown>);
    if ('problems' in parsed) throw new ValidationFailedError('the account is not valid', parsed.problems);
    if (!this.store.canSeal)
      throw new AppError(
        'service_unavailable',
        "tenants' own provider accounts need PROVIDER_CREDENTIALS_KEY set on the service",
      );
    try {
      await this.router.checkCredentials(name, parsed.credentials);
    } catch (e) {
      const why = e instanceof ProviderError ? `${e.message} (${e.code})` : 'the check could not be made';
      throw new ValidationFailedError(
        `the ${name} account did not pass the check: ${why}; nothing was stored`,
        [
          {
            field: name === 'twilio' ? 'auth_token' : 'secret_access_key',
            errors: [`the ${name} check call was refused: ${why}`],
          },
        ],
      );
    }
    const { before, after } = await this.store.save(tenantId, name, parsed.credentials, this.clock.now());
    await this.audit.record(
      p,
      'provider_account.set',
      target(tenantId, name),
      before && auditView(before),
      auditView(after),
    );
    return toDto(after, null);
  }

  /** Audited (`provider_account.delete`); the tenant's messages use the operator's account again when none is left. */
  @Delete(':provider')
  @HttpCode(204)
  @ApiOperation({
    summary: "Remove a tenant's own provider account",
    description:
      "An admin of the tenant, or super_admin. Without an account of its own the tenant's messages go through the operator's providers again. 404 when none is set, or for another tenant.",
  })
  @ApiParam({ name: 'provider', enum: ACCOUNT_PROVIDERS })
  @ApiNoContentResponse({ description: 'removed' })
  async remove(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseIntPipe) id: number,
    @Param('provider') provider: string,
  ): Promise<void> {
    const tenantId = ownTenant(p, id);
    const name = accountProvider(provider);
    const before = await this.store.remove(tenantId, name);
    if (!before) throw new NotFoundError(`tenant ${id} has no ${name} account of its own`);
    await this.audit.record(p, 'provider_account.delete', target(tenantId, name), auditView(before), null);
  }
}

/** The tenant an admin may manage: its own; a super_admin any. Another tenant's id answers 404. */
function ownTenant(p: Principal, id: number): number {
  if (!isSuperAdmin(p) && p.tenantId !== id) throw new NotFoundError(`tenant ${id} not found`);
  return id;
}

function accountProvider(name: string): AccountProvider {
  if (!(ACCOUNT_PROVIDERS as readonly string[]).includes(name))
    throw new NotFoundError(`no provider '${name.slice(0, 40)}' takes tenant accounts (twilio, sns)`);
  return name as AccountProvider;
}

const target = (tenantId: number, provider: AccountProvider) => ({
  type: 'provider_account',
  id: `${tenantId}:${provider}`,
  tenantId,
});

/** What the audit trail keeps: the shown fields only (last 4 characters), never a secret. */
const auditView = (v: AccountView) => ({
  id: v.id,
  provider: v.provider,
  version: v.version,
  shown: v.public,
  key_id: v.key_id,
});

function toDto(v: AccountView, circuit: ProviderAccountDto['circuit']): ProviderAccountDto {
  return {
    id: v.id,
    provider: v.provider,
    version: v.version,
    shown: v.public,
    key_id: v.key_id,
    checked_at: new Date(v.checked_at).toISOString(),
    updated_at: new Date(v.updated_at).toISOString(),
    circuit,
  };
}
