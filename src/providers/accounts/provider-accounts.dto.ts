import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

/**
 * A tenant's own provider account, as PUT takes it. Twilio: account_sid, auth_token, and
 * phone_number or messaging_service_sid. SNS: access_key_id, secret_access_key, region, and
 * optionally origination_identity. Fields of the other provider are refused.
 */
export class ProviderAccountBodyDto {
  @ApiPropertyOptional({
    description: 'Twilio: the account SID (AC + 32 hex)',
    example: 'AC0123456789abcdef0123456789abcdef',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  account_sid?: string;

  @ApiPropertyOptional({
    description: "Twilio: the account's auth token (never returned)",
    format: 'password',
  })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  auth_token?: string;

  @ApiPropertyOptional({
    description: 'Twilio: sender number of that account (E.164)',
    example: '+15005550006',
  })
  @IsOptional()
  @IsString()
  @MaxLength(20)
  phone_number?: string;

  @ApiPropertyOptional({
    description: 'Twilio: Messaging Service SID (MG + 32 hex); used instead of phone_number',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  messaging_service_sid?: string;

  @ApiPropertyOptional({ description: 'SNS: AWS access key id', example: 'AKIAIOSFODNN7EXAMPLE' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  access_key_id?: string;

  @ApiPropertyOptional({ description: 'SNS: AWS secret access key (never returned)', format: 'password' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  secret_access_key?: string;

  @ApiPropertyOptional({ description: 'SNS: AWS region', example: 'eu-west-1' })
  @IsOptional()
  @IsString()
  @MaxLength(32)
  region?: string;

  @ApiPropertyOptional({
    description: 'SNS: origination number (E.164) or sender ID of that account; none: the account defaults',
  })
  @IsOptional()
  @IsString()
  @MaxLength(20)
  origination_identity?: string;
}

export class ProviderAccountCircuitDto {
  @ApiProperty({ enum: ['closed', 'open', 'half_open'] })
  state!: string;
  @ApiProperty()
  consecutiveFailures!: number;
  @ApiProperty({ nullable: true, type: String })
  openedAt!: string | null;
}

export class ProviderAccountDto {
  @ApiProperty({ description: 'the account id (its status callbacks carry ?account=<id>)' })
  id!: string;
  @ApiProperty({ enum: ['twilio', 'sns'] })
  provider!: string;
  @ApiProperty({ description: 'grows on every change' })
  version!: number;
  @ApiProperty({
    description:
      'what may be shown: the last 4 characters of each credential (e.g. auth_token_last4) and the sender fields; never a secret',
    type: 'object',
    additionalProperties: { type: 'string', nullable: true },
  })
  shown!: Record<string, string | null>;
  @ApiProperty({ description: 'id of the key that wraps its data key (PROVIDER_CREDENTIALS_KEY_ID)' })
  key_id!: string;
  @ApiProperty({ description: 'when the credentials were last checked with a read call' })
  checked_at!: string;
  @ApiProperty()
  updated_at!: string;
  @ApiPropertyOptional({
    type: ProviderAccountCircuitDto,
    nullable: true,
    description: "this process's circuit for the account (null when it has not used it yet)",
  })
  circuit!: ProviderAccountCircuitDto | null;
}

export class ProviderAccountsDto {
  @ApiProperty({ type: ProviderAccountDto, isArray: true })
  accounts!: ProviderAccountDto[];
}
