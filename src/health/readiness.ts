import { Injectable } from '@nestjs/common';
import { HealthCheckResult, HealthIndicatorResult } from '@nestjs/terminus';

export type ReadinessCheck = () => Promise<HealthIndicatorResult>;

/**
 * A contributor that is up but has parts down (e.g. providers with an open circuit) says so with a
 * non-empty `down: string[]` in its details: readiness stays 200 but reports `degraded`.
 */
export function degradedParts(result: HealthCheckResult): Record<string, { down: string[] }> {
  const parts: Record<string, { down: string[] }> = {};
  for (const [key, d] of Object.entries(result.details)) {
    const down = (d as { down?: unknown }).down;
    if (Array.isArray(down) && down.length > 0) parts[key] = { down: down.map(String) };
  }
  return parts;
}

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
