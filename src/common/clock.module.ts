import { Global, Module } from '@nestjs/common';
import { Clock } from './clock';

/** Infrastructure: the one Clock every module injects (tests override it with a FakeClock). */
@Global()
@Module({ providers: [Clock], exports: [Clock] })
export class ClockModule {}
