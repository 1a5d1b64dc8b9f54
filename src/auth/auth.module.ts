import { Logger, Module, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { PassportModule } from '@nestjs/passport';
import { JwtAuthGuard, RolesGuard } from './guards';
import { JwtStrategy } from './jwt.strategy';
import { MeController } from './me.controller';

/** The guards are registered globally, in order, by AppModule (JWT → tenant → roles). */
@Module({
  imports: [PassportModule],
  controllers: [MeController],
  providers: [JwtStrategy, JwtAuthGuard, RolesGuard],
  exports: [JwtAuthGuard, RolesGuard],
})
export class AuthModule implements OnApplicationBootstrap {
  constructor(private readonly config: AppConfig) {}

  /** Insecure settings allowed outside production (the development JWT secret) are said loudly. */
  onApplicationBootstrap(): void {
    const logger = new Logger('Security');
    for (const w of this.config.startupWarnings) logger.warn(`INSECURE CONFIGURATION: ${w}`);
  }
}
