import { ApiProperty } from '@nestjs/swagger';
import { FAILURE_REASON_CODES, FailureReason, MessageFailure } from '../../core/failure-reasons';

export class FailureSentencesDto {
  @ApiProperty({ example: 'Number not in service (Twilio 30005): check the number; retrying will not help.' })
  en: string;
  @ApiProperty({
    example: 'Numara kullanımda değil (Twilio 30005): numarayı kontrol edin; yeniden denemek işe yaramaz.',
  })
  tr: string;
}

/** Why a message did not arrive (docs/sending.md "Failure reasons"); derived from status and error_code. */
export class FailureDto implements MessageFailure {
  @ApiProperty({
    enum: FAILURE_REASON_CODES,
    enumName: 'FailureReason',
    description: 'Stable reason code. New codes may be added: read one you do not know as unknown_error.',
  })
  reason: FailureReason;
  @ApiProperty({
    description: 'Sending the same message again later may succeed without changing the number or the text.',
  })
  retryable: boolean;
  @ApiProperty({
    type: String,
    nullable: true,
    enum: ['twilio', 'sns', 'sandbox'],
    description: 'The provider whose code this is; null when the service itself decided.',
  })
  provider: 'twilio' | 'sns' | 'sandbox' | null;
  @ApiProperty({ type: String, nullable: true, example: '30005', description: "The provider's own code." })
  provider_code: string | null;
  @ApiProperty({ type: FailureSentencesDto, description: 'One sentence in each language, always both.' })
  message: FailureSentencesDto;
}
