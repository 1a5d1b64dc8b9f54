import { Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AppConfig } from '../config/app-config';
import { claimsProblem, Principal, TokenClaims } from './principal';

/** HS256 only: `alg: none` and other algorithms are refused by passport-jwt before validate(). */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy) {
  constructor(config: AppConfig) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: config.get('JWT_SECRET'),
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
