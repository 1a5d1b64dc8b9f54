/** Prints the delivery-time optimisation figures (bench/send-time-sim.ts). */
import { describe, simulate } from './send-time-sim';

console.log(describe(simulate()));
