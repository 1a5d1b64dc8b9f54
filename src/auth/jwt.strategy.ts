import { Injectable, UnauthorizedException } from '@nestjs/common';
import { createSecretKey } from 'node:crypto';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AppConfig } from '../config/app-config';
import { claimsProblem, Principal, TokenClaims } from './principal';

/** HS256 only: `alg: none` and other algorithms are refused by passport-jwt before validate(). */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy) {
  constructor(config: AppConfig) {
    // A KeyObject made once: given a string, jsonwebtoken first tries (and fails) to parse it as a
    // public key on every request, which cost a sixth of the CPU of an authenticated request.
    const key = createSecretKey(Buffer.from(config.get('JWT_SECRET'), 'utf8'));
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: key as unknown as Buffer,
      algorithms: ['HS256'],
      ignoreExpiration: false,
    });
  }

  validate(payload: unknown): Principal {
    const problem = claimsProblem(payload);
    if (problem) throw new UnauthorizedException(problem);
    const c = payload as TokenClaims;
    return { userId: String(c.sub), homeTenantId: c.tenant_id, tenantId: c.tenant_id, roles: c.roles ?? [] };
  }
}
