import { Body, Controller, Get, Param, ParseIntPipe, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { Roles } from '../auth/decorators';
import { ROLE_SUPER_ADMIN } from '../auth/principal';
import { CreateTenantDto, TenantResponseDto, toTenantResponse, UpdateTenantDto } from './tenants.dto';
import { TenantsService } from './tenants.service';

@ApiTags('tenants')
@ApiErrors()
@ApiBearerAuth()
@Roles(ROLE_SUPER_ADMIN)
@Controller('api/sms/tenants')
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  @Get()
  async list(): Promise<TenantResponseDto[]> {
    return (await this.tenants.list()).map(toTenantResponse);
  }

  @Get(':id')
  async get(@Param('id', ParseIntPipe) id: number): Promise<TenantResponseDto> {
    return toTenantResponse(await this.tenants.get(id));
  }

  @Post()
  async create(@Body() dto: CreateTenantDto): Promise<TenantResponseDto> {
    return toTenantResponse(await this.tenants.create(dto.id, dto.name, dto.settings));
  }

  @Patch(':id')
  async update(
    @Param('id', ParseIntPipe) id: number,
    @Body() dto: UpdateTenantDto,
  ): Promise<TenantResponseDto> {
    return toTenantResponse(await this.tenants.update(id, dto));
  }
}
