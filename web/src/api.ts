/**
 * The public REST API, typed by its contract: paths, parameters, bodies and answers all come from
 * the types generated from openapi.json (clients/typescript/src/schema.ts, `npm run openapi`), so
 * a change to the contract that a page relies on fails `npm run build:web`. Requests go through
 * openapi-fetch with the session's bearer token; nothing else.
 */
import createClient, { type FetchResponse, type MaybeOptionalInit } from 'openapi-fetch';
import type { components, paths } from '../../clients/typescript/src/schema';
import { actingTenant, clearSession, isSuperAdmin, loadSession } from './auth';

/** The contract's schemas: `Schemas['TemplateResponseDto']`. */
export type Schemas = components['schemas'];

type Method = 'get' | 'put' | 'post' | 'delete' | 'patch';

/** The paths of the contract that have a `method` operation. */
type PathsWith<M extends Method> = {
  [P in keyof paths]: paths[P] extends Record<M, object> ? P : never;
}[keyof paths];

/** The second argument of a call: `params` (path, query) and `body`, as the contract says. */
type Init<P extends PathsWith<M>, M extends Method> = MaybeOptionalInit<paths[P], M>;

type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];

/** Required when the operation has a path parameter, a required query parameter or a body. */
type InitArg<P extends PathsWith<M>, M extends Method> =
  RequiredKeys<Init<P, M>> extends never ? [init?: Init<P, M>] : [init: Init<P, M>];

type Data<P extends PathsWith<M>, M extends Method> = Exclude<
  FetchResponse<Extract<paths[P][M], object>, Init<P, M>, 'application/json'>['data'],
  undefined
>;

/** The JSON of a 2xx answer to `M P`; void when the contract describes no body (204, or undocumented). */
export type Answer<P extends PathsWith<M>, M extends Method> = [Data<P, M>] extends [never]
  ? void
  : Data<P, M>;

/** The query parameters of `GET P`. */
export type Query<P extends PathsWith<'get'>> = NonNullable<NonNullable<Init<P, 'get'>>['params']>['query'];

/** An answer other than 2xx, with the API's `message`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let onUnauthorized: (message: string) => void = () => undefined;

/** Called on any 401: the page goes back to sign-in with the message. */
export function setUnauthorizedHandler(fn: (message: string) => void): void {
  onUnauthorized = fn;
}

const client = createClient<paths>({ credentials: 'omit', cache: 'no-store' });
client.use({
  onRequest({ request }) {
    const session = loadSession();
    request.headers.set('Accept', 'application/json');
    if (session) request.headers.set('Authorization', `Bearer ${session.token}`);
    const actFor = isSuperAdmin(session) ? actingTenant() : null;
    if (actFor !== null) request.headers.set('X-Tenant-Id', String(actFor));
    return request;
  },
});

/** The API's `message` (ErrorResponseDto), or the status when the body is not the API's (a proxy's page). */
function messageOf(error: unknown, status: number): string {
  const msg =
    typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
  if (Array.isArray(msg)) return msg.join('; ');
  return typeof msg === 'string' ? msg : `HTTP ${status}`;
}

async function call(method: Method, path: string, init?: object): Promise<unknown> {
  const { data, error, response } = await client.request(method, path as never, init as never);
  if (response.status === 401) {
    clearSession();
    const msg = messageOf(error, 401);
    onUnauthorized(msg);
    throw new ApiError(401, msg);
  }
  if (!response.ok) throw new ApiError(response.status, messageOf(error, response.status));
  return data;
}

type Caller<M extends Method> = <P extends PathsWith<M>>(
  path: P,
  ...init: InitArg<P, M>
) => Promise<Answer<P, M>>;

const caller =
  <M extends Method>(method: M): Caller<M> =>
  (path, ...init) =>
    call(method, path, init[0]) as Promise<never>;

/**
 * `api.GET('/api/sms/campaigns/{id}/status', { params: { path: { id } } })` resolves with the
 * contract's `CampaignStatusDto`; any answer other than 2xx rejects with an `ApiError`.
 */
export const api = {
  GET: caller('get'),
  POST: caller('post'),
  PUT: caller('put'),
  PATCH: caller('patch'),
  DELETE: caller('delete'),
};
