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

export class RoutingProviderDto {
  @ApiProperty({ enum: ['twilio', 'sns', 'sandbox'] }) provider: string;
  @ApiProperty({ description: 'share of first attempts this provider gets now (0..1)', example: 0.95 })
  share: number;
  @ApiProperty({
    description: '1 − degradation of its worst signal (1 healthy, 0 fully degraded)',
    example: 1,
  })
  score: number;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'its worst signal in words; null when healthy',
    example: 'errors 31 % over 60 s',
  })
  reason: string | null;
  @ApiProperty({ description: 'calls over the call window (further back when traffic is thin)' })
  calls: number;
  @ApiProperty({ type: Number, nullable: true }) error_rate: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'mean latency of answered calls (ms)' })
  latency_ms: number | null;
  @ApiProperty({ description: 'seconds the call figures cover' }) call_span_seconds: number;
  @ApiProperty({ description: 'sends old enough to judge their delivery (in the delivery window)' })
  matured_sends: number;
  @ApiProperty({ type: Number, nullable: true, description: 'share of matured sends with a final receipt' })
  receipt_share: number | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'share of matured sends without a final receipt within SMS_ROUTING_SLOW_DELIVERY_SECONDS',
  })
  slow_delivery_share: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'mean seconds from send to delivered' })
  delivered_seconds: number | null;
  @ApiProperty({ description: 'the provider has sent receipts for this destination in the last day' })
  reports_receipts: boolean;
  @ApiProperty({ description: 'code messages among the matured sends' }) codes: number;
  @ApiProperty({ type: Number, nullable: true, description: 'share of those codes entered correctly' })
  conversion_rate: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'mean seconds from send to conversion' })
  convert_seconds: number | null;
  @ApiProperty({
    type: [String],
    description: "figures taken from the provider's traffic to every destination (this one's is too thin)",
    example: ['delivery'],
  })
  widened: string[];
}

export class RoutingDestinationDto {
  @ApiProperty({
    description: 'ISO 3166 alpha-2 (ZZ: numbers without a country; *: every destination)',
    example: 'TR',
  })
  country: string;
  @ApiProperty({ type: [RoutingProviderDto] }) providers: RoutingProviderDto[];
}

export class RoutingHealthDto {
  @ApiProperty({ description: 'SMS_ROUTING_ADAPTIVE, with more than one provider configured' })
  adaptive: boolean;
  @ApiProperty({
    description: 'scores were read from Redis recently; false: every message takes the configured order',
  })
  available: boolean;
  @ApiProperty({ type: String, nullable: true }) refreshed_at: string | null;
  @ApiProperty() call_window_seconds: number;
  @ApiProperty() delivery_window_seconds: number;
  @ApiProperty({
    type: [RoutingDestinationDto],
    description: 'the 20 busiest destinations of the windows, then * (every destination)',
  })
  destinations: RoutingDestinationDto[];
}

export class ProvidersHealthDto {
  @ApiProperty({ type: [ProviderHealthDto] }) providers: ProviderHealthDto[];
  @ApiProperty({
    type: RoutingHealthDto,
    description: 'adaptive routing: the shares of first attempts and the scores behind them (cluster-wide)',
  })
  routing: RoutingHealthDto;
}
