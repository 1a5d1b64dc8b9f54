import { Injectable } from '@nestjs/common';

/** Time behind a class, so tests move it instead of sleeping. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
