import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, Length } from 'class-validator';
import { PrivacyRequest } from './privacy.service';

export class ErasureRequestDto {
  @ApiProperty({
    example: '+905321234567',
    description: 'The number to erase (any form the service accepts).',
  })
  @IsString()
  @Length(1, 64)
  phone_number: string;

  @ApiProperty({
    enum: ['erase'],
    description: 'Must be "erase": an erasure cannot be undone.',
  })
  @IsIn(['erase'], { message: 'confirm must be "erase": an erasure cannot be undone' })
  confirm: 'erase';

  @ApiPropertyOptional({
    description: "super_admin only: erase the number in every tenant's data, not just the tenant acted for.",
  })
  @IsOptional()
  @IsBoolean()
  all_tenants?: boolean;
}

export class ExportRequestDto {
  @ApiProperty({ example: '+905321234567', description: 'The number whose data to export.' })
  @IsString()
  @Length(1, 64)
  phone_number: string;
}

export class PrivacyRequestDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: ['erasure', 'export'] }) kind: string;
  @ApiProperty({ enum: ['running', 'completed', 'failed'] }) status: string;
  @ApiProperty({ description: 'Percent done, 0 to 100.' }) progress: number;
  @ApiProperty({ description: 'The erasure covered every tenant (super_admin).' }) all_tenants: boolean;
  @ApiProperty() requested_by: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    nullable: true,
    description: 'Rows changed (erasure) or found (export), by place.',
  })
  counts: Record<string, number> | null;
  @ApiProperty() created_at: string;
  @ApiProperty({ type: String, nullable: true }) completed_at: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Export: when its file stops being downloadable.',
  })
  expires_at: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Export: the path of its file while it can be downloaded, else null.',
  })
  download_url: string | null;
}

export class ErasureDto extends PrivacyRequestDto {
  @ApiProperty({
    example: true,
    description: 'Always true: the erased number and bodies cannot be restored.',
  })
  irreversible: boolean;
}

export function toPrivacyRequestDto(r: PrivacyRequest): PrivacyRequestDto {
  return {
    id: r.id,
    kind: r.kind,
    status: r.status,
    progress: r.progress,
    all_tenants: r.allTenants,
    requested_by: r.requestedBy,
    counts: r.counts,
    created_at: r.createdAt.toISOString(),
    completed_at: r.completedAt?.toISOString() ?? null,
    expires_at: r.expiresAt?.toISOString() ?? null,
    download_url: r.downloadable ? `/api/sms/privacy/exports/${r.id}/download` : null,
  };
}

export class PrivacySettingsDto {
  @ApiProperty({
    example: 30,
    description:
      "Days after which the bodies of the tenant's messages and inbound texts are redacted: its body_retention_days, else the service default SMS_BODY_RETENTION_DAYS.",
  })
  body_retention_days: number;

  @ApiProperty({
    enum: ['tenant', 'default'],
    description: "tenant: the tenant's own body_retention_days; default: the service default.",
  })
  body_retention_source: 'tenant' | 'default';

  @ApiProperty({
    type: String,
    enum: ['required', 'not_required'],
    nullable: true,
    description:
      'Whether promotional texts need granted SMS consent: required (every number), not_required (none); null: the default, Turkish (+90) numbers only.',
  })
  promotional_consent: 'required' | 'not_required' | null;
}
