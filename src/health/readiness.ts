import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult } from '@nestjs/terminus';

export type ReadinessCheck = () => Promise<HealthIndicatorResult>;

/** Lets feature modules (providers' circuits) add details to /health/ready without a cycle. */
@Injectable()
export class ReadinessContributor {
  private readonly registered: ReadinessCheck[] = [];

  register(check: ReadinessCheck): void {
    this.registered.push(check);
  }

  checks(): ReadinessCheck[] {
    return [...this.registered];
  }
}
