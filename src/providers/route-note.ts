import { ProviderName } from '../core/message-types';

/**
 * Why a message went where it went, on the event of its attempt. The worker's event of each
 * attempt lists the providers it was handed to (`tried`, in order); the entry of the provider
 * the router put first carries `route`, e.g. "routed to sns: twilio errors 31 % over 60 s" or
 * "routed to twilio: default order". It rides in the event the attempt writes anyway: no
 * statement, no column of its own. Pure.
 */
export function noteRoute(tried: unknown, plan: { first: ProviderName; note: string }): unknown {
  if (!Array.isArray(tried)) return tried;
  let noted = false;
  return tried.map((entry: unknown) => {
    if (
      noted ||
      !entry ||
      typeof entry !== 'object' ||
      (entry as { provider?: unknown }).provider !== plan.first
    )
      return entry;
    noted = true;
    return { ...entry, route: plan.note };
  });
}

/** The route note of an event's payload (the first `tried` entry carrying one); null when none. */
export function routeNoteOf(payload: Record<string, unknown> | null | undefined): string | null {
  const tried = payload?.tried;
  if (!Array.isArray(tried)) return null;
  for (const entry of tried as unknown[]) {
    const route = entry && typeof entry === 'object' ? (entry as { route?: unknown }).route : undefined;
    if (typeof route === 'string') return route;
  }
  return null;
}
