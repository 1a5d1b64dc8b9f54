import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { PhoneValidationResponseDto, ValidatePhoneDto } from './phone.dto';
import { PhoneService } from './phone.service';

@ApiTags('phone')
@ApiErrors()
@ApiBearerAuth()
@Controller('api/sms')
export class PhoneController {
  constructor(private readonly phone: PhoneService) {}

  /** Always 200: an invalid number is an answer (`valid: false, reason`), not an error. */
  @Post('validate-phone')
  @HttpCode(200)
  @ApiOkResponse({ type: PhoneValidationResponseDto })
  validate(@Body() dto: ValidatePhoneDto): PhoneValidationResponseDto {
    return this.phone.validate(dto.phone_number, dto.country_code?.toUpperCase());
  }
}
