import { Injectable, UnauthorizedException } from '@nestjs/common';
import { createSecretKey } from 'node:crypto';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AppConfig, JWT_CLOCK_SKEW_SECONDS } from '../config/app-config';
import { claimsProblem, lifetimeProblem, Principal, TokenClaims } from './principal';

/**
 * HS256 only: `alg: none` and other algorithms are refused by passport-jwt before validate().
 * `exp` is required, checked with JWT_CLOCK_SKEW_SECONDS of leeway, and the lifetime is capped by
 * JWT_MAX_TTL_SECONDS (passport-jwt checks against the wall clock, so validate() does too).
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy) {
  private readonly maxTtlSeconds: number;

  constructor(config: AppConfig) {
    // A KeyObject made once: given a string, jsonwebtoken first tries (and fails) to parse it as a
    // public key on every request, which cost a sixth of the CPU of an authenticated request.
    const key = createSecretKey(Buffer.from(config.get('JWT_SECRET'), 'utf8'));
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: key as unknown as Buffer,
      algorithms: ['HS256'],
      ignoreExpiration: false,
      jsonWebTokenOptions: { clockTolerance: JWT_CLOCK_SKEW_SECONDS },
    });
    this.maxTtlSeconds = config.get('JWT_MAX_TTL_SECONDS');
  }

  validate(payload: unknown): Principal {
    const problem = claimsProblem(payload);
    if (problem) throw new UnauthorizedException(problem);
    const now = Math.floor(Date.now() / 1000);
    const ttl = lifetimeProblem(
      payload as Record<string, unknown>,
      now,
      this.maxTtlSeconds,
      JWT_CLOCK_SKEW_SECONDS,
    );
    if (ttl) throw new UnauthorizedException(ttl);
    const c = payload as TokenClaims;
    const principal: Principal = {
      userId: String(c.sub),
      homeTenantId: c.tenant_id,
      tenantId: c.tenant_id,
      roles: c.roles ?? [],
    };
    if (c.test_mode === true) principal.testMode = true;
    return principal;
  }
}
