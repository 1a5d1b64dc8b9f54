import { Module } from '@nestjs/common';
import { DashboardController } from './dashboard.controller';

/** The operators' page (web/, built into dist/dashboard), served at /dashboard. */
@Module({ controllers: [DashboardController] })
export class DashboardModule {}
