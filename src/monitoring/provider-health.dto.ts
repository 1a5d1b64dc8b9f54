import { ApiProperty } from '@nestjs/swagger';

export class CircuitDto {
  @ApiProperty({ enum: ['closed', 'half_open', 'open'] }) state: 'closed' | 'half_open' | 'open';
  @ApiProperty({ description: 'failures in a row that count towards opening' }) consecutive_failures: number;
  @ApiProperty({ type: String, nullable: true, description: 'when it last opened (ISO 8601)' })
  opened_at: string | null;
}

export class ProviderErrorSeenDto {
  @ApiProperty({ example: 'twilio:20429' }) code: string;
  @ApiProperty() at: string;
}

export class RecentCallsDto {
  @ApiProperty({ example: 300 }) window_seconds: number;
  @ApiProperty() calls: number;
  @ApiProperty() errors: number;
  @ApiProperty({ type: Number, nullable: true, description: 'errors / calls; null when no call' })
  error_rate: number | null;
}

export class ProviderHealthDto {
  @ApiProperty({ enum: ['twilio', 'sns', 'sandbox'] }) provider: string;
  @ApiProperty({ type: CircuitDto }) circuit: CircuitDto;
  @ApiProperty({ type: String, nullable: true }) last_success_at: string | null;
  @ApiProperty({ type: ProviderErrorSeenDto, nullable: true }) last_error: ProviderErrorSeenDto | null;
  @ApiProperty({ type: RecentCallsDto }) recent: RecentCallsDto;
}

export class ProvidersHealthDto {
  @ApiProperty({ type: [ProviderHealthDto] }) providers: ProviderHealthDto[];
}
