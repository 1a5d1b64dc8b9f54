import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { PhoneValidationResponseDto, ValidatePhoneDto } from './phone.dto';
import { PhoneService } from './phone.service';
import { ApiBriefBody } from '../openapi/examples';

@ApiTags('phone')
@ApiErrors()
@ApiBearerAuth()
@Controller('api/sms')
export class PhoneController {
  constructor(private readonly phone: PhoneService) {}

  /** Always 200: an invalid number is an answer (`valid: false, reason`), not an error. */
  @Post('validate-phone')
  @ApiBriefBody(ValidatePhoneDto, 'validatePhone')
  @ApiOperation({
    summary: 'Validate and format a phone number',
    description:
      'Parses the number (national numbers in `country_code`, default DEFAULT_COUNTRY_CODE) and answers its E.164, national and international forms, or `valid: false` with the reason. Sends nothing.',
  })
  @HttpCode(200)
  @ApiOkResponse({ type: PhoneValidationResponseDto })
  validate(@Body() dto: ValidatePhoneDto): PhoneValidationResponseDto {
    return this.phone.validate(dto.phone_number, dto.country_code?.toUpperCase());
  }
}
