import { Module } from '@nestjs/common';
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
export class AuthModule {}
