import { Injectable } from '@nestjs/common';
import { CodeConversion, ConversionObserver } from '../core/conversion';
import { RoutingScores } from './routing-scores';

/**
 * Code conversions (messaging's `ConversionObserver` port) feed adaptive routing's score: the
 * provider that sent a code that was entered correctly, for its destination country.
 */
@Injectable()
export class RoutingConversions implements ConversionObserver {
  constructor(private readonly scores: RoutingScores) {}

  converted(c: CodeConversion): void {
    this.scores.recordConversion(c.provider, c.country, c.secondsFromSend);
  }
}
