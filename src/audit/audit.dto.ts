import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsInt, IsOptional, IsString, Length, Max, Matches, Min, NotContains } from 'class-validator';
import { ValidationFailedError } from '../common/errors';
import { AuditEntry } from './audit.service';
import { PageCursorField, PageLimitField } from '../common/dto-fields';

export class AuditQueryDto {
  @ApiPropertyOptional({ description: 'super_admin only: one tenant (default: every tenant)', example: 2 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(2147483647)
  tenant_id?: number;

  @ApiPropertyOptional({ example: 'template.update' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z][a-z_.]{0,63}$/, { message: 'action must look like template.update' })
  action?: string;

  @ApiPropertyOptional({ description: "the actor's sub (user id)", example: '42' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  @NotContains('\u0000', { message: 'actor must not contain NUL' })
  actor?: string;

  @ApiPropertyOptional({ example: 'template' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z][a-z_]{0,39}$/, { message: 'target_type must look like template' })
  target_type?: string;

  @ApiPropertyOptional({ example: 'welcome_message' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  @NotContains('\u0000', { message: 'target_id must not contain NUL' })
  target_id?: string;

  @ApiPropertyOptional({ example: '2026-01-01T00:00:00Z', description: 'entries at or after' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'from must be an ISO 8601 date-time' })
  from?: Date;

  @ApiPropertyOptional({ example: '2026-02-01T00:00:00Z', description: 'entries before' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'to must be an ISO 8601 date-time' })
  to?: Date;

  @PageLimitField()
  limit?: number;

  @PageCursorField()
  cursor?: string;
}

export class AuditEntryDto {
  @ApiProperty({ example: '1287' }) id: string;
  @ApiProperty({ example: '2026-01-15T10:00:00.000Z' }) at: string;
  @ApiProperty({ description: 'the tenant whose data changed' }) tenant_id: number;
  @ApiProperty({ description: "the token's sub" }) actor_sub: string;
  @ApiProperty({ description: "the tenant named in the actor's token" }) actor_tenant_id: number;
  @ApiProperty({ type: [String] }) actor_roles: string[];
  @ApiProperty({
    type: String,
    nullable: true,
    description: "the service's own id of the request that made the change (its X-Request-Id answer)",
  })
  request_id: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'the X-Request-Id the caller sent, if any (not unique: a caller may repeat it)',
  })
  client_request_id: string | null;
  @ApiProperty({ example: 'template.update' }) action: string;
  @ApiProperty({ example: 'template' }) target_type: string;
  @ApiProperty({ example: 'welcome_message' }) target_id: string;
  @ApiProperty({
    nullable: true,
    type: Object,
    description: 'state before (null: did not exist); secrets redacted',
  })
  before: unknown;
  @ApiProperty({ nullable: true, type: Object, description: 'state after (null: removed); secrets redacted' })
  after: unknown;
}

export class AuditPageDto {
  @ApiProperty({ type: [AuditEntryDto] }) items: AuditEntryDto[];
  @ApiProperty({ type: String, nullable: true }) next_cursor: string | null;
}

export function toAuditEntry(e: AuditEntry): AuditEntryDto {
  return {
    id: e.id,
    at: e.at.toISOString(),
    tenant_id: e.tenantId,
    actor_sub: e.actorSub,
    actor_tenant_id: e.actorTenantId,
    actor_roles: e.actorRoles,
    request_id: e.requestId,
    client_request_id: e.clientRequestId,
    action: e.action,
    target_type: e.targetType,
    target_id: e.targetId,
    before: e.before,
    after: e.after,
  };
}

/** Latest and earliest instants PostgreSQL and JS both hold without trouble. */
const MIN_TIME = Date.UTC(1970, 0, 1);
const MAX_TIME = Date.UTC(9999, 11, 31);

/** 400 naming the field unless `d` is a date PostgreSQL can compare with (year 1970-9999). */
export function checkDateRange(field: string, d: Date | undefined): void {
  if (d !== undefined && !(d.getTime() >= MIN_TIME && d.getTime() <= MAX_TIME))
    throw ValidationFailedError.field(field, `${field} must be between 1970 and 9999`);
}

/** Keyset cursor like /history's: base64url of `<at ISO>|<id>` of the last entry of a page. */
export function encodeAuditCursor(e: AuditEntry): string {
  return Buffer.from(`${e.at.toISOString()}|${e.id}`).toString('base64url');
}

export function decodeAuditCursor(cursor: string): { at: Date; id: string } {
  const [at, id, extra] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const date = new Date(at);
  if (
    extra !== undefined ||
    !/^\d{1,18}$/.test(id ?? '') ||
    Number.isNaN(date.getTime()) ||
    date.getTime() < MIN_TIME ||
    date.getTime() > MAX_TIME
  )
    throw ValidationFailedError.field('cursor', 'cursor is not valid');
  return { at: date, id };
}
