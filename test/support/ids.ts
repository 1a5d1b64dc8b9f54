let tenantCounter = 0;
/** A tenant id no other test in this run uses, so tests stay independent in one database. */
export function freshTenantId(): number {
  tenantCounter += 1;
  return 1000 * (process.pid % 1000) + tenantCounter + Math.floor(Math.random() * 1e6) * 1000;
}

let phoneCounter = Math.floor(Math.random() * 10_000);
/**
 * A valid US number in an area code no suite writes by hand (907), different on each call: for a
 * test that looks a number up across every tenant (an erasure for all), where another suite's
 * messages to a shared literal number would be counted too.
 */
export function freshPhone(): string {
  phoneCounter = (phoneCounter + 1) % 10_000;
  return `+1907555${String(phoneCounter).padStart(4, '0')}`;
}
