import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { CurrentPrincipal } from './decorators';
import { Principal } from './principal';

export class MeResponseDto {
  @ApiProperty({ example: '456' }) user_id: string;
  @ApiProperty({ example: 1, description: 'the tenant this request acts for' }) tenant_id: number;
  @ApiProperty({ example: ['admin'] }) roles: string[];
  @ApiProperty({
    example: false,
    description: "the token's test_mode claim: its messages go to the sandbox only, at no cost",
  })
  test_mode: boolean;
}

/** Who the token says you are: lets a caller check a token (and is the benchmark's baseline route). */
@ApiTags('auth')
@ApiErrors()
@ApiBearerAuth()
@Controller('api/sms/me')
export class MeController {
  @Get()
  @ApiOperation({
    summary: 'Who am I',
    description:
      'The user id, tenant, roles and test mode the service reads from the bearer token (and X-Tenant-Id for a super_admin).',
  })
  @ApiOkResponse({ type: MeResponseDto })
  me(@CurrentPrincipal() p: Principal): MeResponseDto {
    return { user_id: p.userId, tenant_id: p.tenantId, roles: p.roles, test_mode: p.testMode === true };
  }
}
