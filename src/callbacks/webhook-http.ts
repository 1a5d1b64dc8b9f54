import { request as httpRequest, RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { ResolvedTarget } from './url-policy';

export interface PostResult {
  /** The receiver's HTTP status, when it answered. */
  statusCode: number | null;
  /** Why no answer (timeout, refused, TLS...), when none. */
  error: string | null;
}

/**
 * One POST to a checked target: the connection goes to the pinned address (no second DNS lookup),
 * redirects are not followed (a 3xx is just a non-2xx answer), the response body is never read
 * into memory, and the whole exchange is bounded by `timeoutMs`.
 */
export function postJson(
  target: ResolvedTarget,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<PostResult> {
  const pinned: LookupFunction = (_host, opts, cb) => {
    if ((opts as { all?: boolean }).all)
      (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [
        { address: target.address, family: target.family },
      ]);
    else cb(null, target.address, target.family);
  };
  const options: RequestOptions = {
    method: 'POST',
    agent: false,
    lookup: pinned,
    headers: {
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(body)),
      'User-Agent': 'sms-service-webhooks/1',
      ...headers,
    },
  };
  const send = target.url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<PostResult>((resolve) => {
    let settled = false;
    const done = (r: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = send(target.url, options, (res) => {
      done({ statusCode: res.statusCode ?? null, error: null });
      res.resume(); // drain without keeping it
      res.destroy();
    });
    const timer = setTimeout(() => {
      done({ statusCode: null, error: `timeout after ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => done({ statusCode: null, error: e.code ?? e.message }));
    req.end(body);
  });
}
