import { Module } from '@nestjs/common';
import { MonthToDateSpend } from '../core';
import { ReplicaReadsModule } from '../database/replica-reads';
import { AnalyticsController } from './analytics.controller';
import { AnalyticsService } from './analytics.service';
import { RollupService } from './rollup.service';
import { RollupSpend } from './spend';

/**
 * Stats and cost reports, read from the daily rollup the triggers keep; and month-to-date spend
 * (the `MonthToDateSpend` port the spend cap reads), from the same rollup.
 */
@Module({
  imports: [ReplicaReadsModule],
  controllers: [AnalyticsController],
  providers: [AnalyticsService, RollupService, { provide: MonthToDateSpend, useClass: RollupSpend }],
  exports: [AnalyticsService, RollupService, MonthToDateSpend],
})
export class AnalyticsModule {}
