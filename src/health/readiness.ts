import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult } from '@nestjs/terminus';

export type ReadinessCheck = () => Promise<HealthIndicatorResult>;

/** Something is down but the service still works (e.g. provider circuits open): 200, `degraded`. */
export interface Degradation {
  key: string;
  down: string[];
}

/** Lets feature modules (providers' circuits) add details to /health/ready without a cycle. */
@Injectable()
export class ReadinessContributor {
  private readonly registered: ReadinessCheck[] = [];
  private readonly probes: (() => Degradation | null)[] = [];

  register(check: ReadinessCheck): void {
    this.registered.push(check);
  }

  checks(): ReadinessCheck[] {
    return [...this.registered];
  }

  registerDegradation(probe: () => Degradation | null): void {
    this.probes.push(probe);
  }

  degradations(): Degradation[] {
    return this.probes.map((p) => p()).filter((d): d is Degradation => d !== null);
  }
}
