import { Module } from '@nestjs/common';
import { AnalyticsController } from './analytics.controller';
import { AnalyticsService } from './analytics.service';
import { RollupService } from './rollup.service';

/** Stats and cost reports (issue 11 §1-2), read from the daily rollup the triggers keep. */
@Module({
  controllers: [AnalyticsController],
  providers: [AnalyticsService, RollupService],
  exports: [AnalyticsService, RollupService],
})
export class AnalyticsModule {}
