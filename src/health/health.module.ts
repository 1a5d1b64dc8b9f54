import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { ReadinessContributor } from './readiness';
import { RedisHealthIndicator } from './redis.health';
import { ReplicaHealthIndicator } from './replica.health';
import { ReplicaReadsModule } from '../database/replica-reads';

@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), ReplicaReadsModule],
  controllers: [HealthController],
  providers: [RedisHealthIndicator, ReplicaHealthIndicator, ReadinessContributor],
  exports: [ReadinessContributor, TerminusModule],
})
export class HealthModule {}
