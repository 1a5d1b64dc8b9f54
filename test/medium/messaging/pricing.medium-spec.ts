import { MessagingModule } from '../../../src/messaging';
import { PricingService } from '../../../src/messaging/policies/pricing.service';
import { MonitoringModule } from '../../../src/monitoring';
import { PhoneModule } from '../../../src/phone';
import { createMediumContext, MediumContext } from '../medium-context';

describe('PricingService: estimates from sms_prices per provider, in exact micro-units', () => {
  let ctx: MediumContext;
  let pricing: PricingService;
  beforeAll(async () => {
    ctx = await createMediumContext({ imports: [MessagingModule, PhoneModule, MonitoringModule] });
    pricing = ctx.get(PricingService);
  });
  afterAll(() => ctx.close());

  it('prices SNS as well as Twilio, exactly (no float drift)', () => {
    expect(pricing.estimate('sns', 'US', 3)).toBe(19_350); // 0.00645 × 3; as floats 0.019350000000000003
    expect(pricing.estimate('twilio', 'US', 3)).toBe(24_900);
    expect(pricing.estimate('sns', 'TR', 1)).toBe(28_500);
    expect(pricing.currency('sns', 'US')).toBe('USD');
  });

  it("falls back to the provider's ZZ row for a country it does not list", () => {
    expect(pricing.estimate('sns', 'JP', 2)).toBe(180_000);
    expect(pricing.estimate('twilio', null, 1)).toBe(90_000);
    expect(pricing.estimate('sandbox', 'US', 5)).toBe(0);
  });
});
