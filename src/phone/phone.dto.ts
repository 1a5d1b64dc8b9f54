import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, Matches } from 'class-validator';

export class ValidatePhoneDto {
  @ApiProperty({ example: '234-567-8900' })
  @IsString()
  @Length(1, 64)
  phone_number: string;

  @ApiPropertyOptional({ example: 'US', description: 'ISO 3166 alpha-2; defaults to DEFAULT_COUNTRY_CODE' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z]{2}$/, { message: 'country_code must be a two-letter ISO country code' })
  country_code?: string;
}

export class PhoneValidationResponseDto {
  @ApiProperty({ example: true }) valid: boolean;
  @ApiPropertyOptional({ example: '+12345678900' }) e164?: string;
  @ApiPropertyOptional({ example: '(234) 567-8900' }) national_format?: string;
  @ApiPropertyOptional({ example: '+1 234 567 8900' }) international_format?: string;
  @ApiPropertyOptional({ type: String, example: 'US', nullable: true }) country?: string | null;
  @ApiPropertyOptional({ type: String, example: 'FIXED_LINE_OR_MOBILE', nullable: true }) type?:
    string | null;
  @ApiPropertyOptional({ example: 'too_short', description: 'why the number is not valid' }) reason?: string;
}
