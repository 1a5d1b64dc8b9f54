import { describe as describeResult, simulate } from '../../bench/send-time-sim';

describe('delivery-time optimisation on generated history (docs/campaigns.md)', () => {
  it("lands far more sends in the recipient's best hour than sending everyone at the window's start", () => {
    const r = simulate();
    // The figure docs/campaigns.md quotes.
    console.log(describeResult(r));
    expect(r.optimised.exact / r.recipients).toBeGreaterThan(3 * (r.windowStart.exact / r.recipients));
    expect(r.basis.recipient).toBe(r.withHistory);
  });
});
