let tenantCounter = 0;
/** A tenant id no other test in this run uses, so tests stay independent in one database. */
export function freshTenantId(): number {
  tenantCounter += 1;
  return 1000 * (process.pid % 1000) + tenantCounter + Math.floor(Math.random() * 1e6) * 1000;
}
