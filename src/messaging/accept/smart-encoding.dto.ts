import { ApiProperty } from '@nestjs/swagger';
import type { SmartEncodingReport } from '../../core/smart-encoding';

export class EncodingFiguresDto {
  @ApiProperty({ enum: ['GSM-7', 'UCS-2'] }) encoding: string;
  @ApiProperty() segments: number;
}

/** What the tenant's `smart_encoding` changed: in an answer only when it changed the text. */
export class SmartEncodingDto {
  @ApiProperty({ enum: ['lookalikes', 'transliterate'], description: "the tenant's smart_encoding" })
  mode: string;
  @ApiProperty({ example: 2, description: 'characters replaced or removed' }) changed: number;
  @ApiProperty({ type: EncodingFiguresDto, description: 'the text as written' }) before: EncodingFiguresDto;
  @ApiProperty({
    type: EncodingFiguresDto,
    description: "the text as sent: equal to the answer's encoding and segments",
  })
  after: EncodingFiguresDto;
}

/** `{smart_encoding}` when smart encoding changed the text, else nothing (the field is absent). */
export function smartEncodingField(r: SmartEncodingReport | null | undefined): {
  smart_encoding?: SmartEncodingDto;
} {
  if (!r) return {};
  return {
    smart_encoding: {
      mode: r.mode,
      changed: r.changed,
      before: { encoding: r.before.encoding, segments: r.before.segments },
      after: { encoding: r.after.encoding, segments: r.after.segments },
    },
  };
}
