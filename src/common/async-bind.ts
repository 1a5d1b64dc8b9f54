import { AsyncResource } from 'node:async_hooks';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any function at all
type Fn = (...args: any[]) => unknown;

/**
 * `AsyncResource.prototype.bind` without its deprecated `asyncResource` property (DEP0172).
 *
 * Node 20 defines that property on every bound function with two fresh `util.deprecate`
 * wrappers, and Fastify (its content-type parser) and Nest (each interceptor's `next`) bind per
 * request: under `POST /api/sms/send` load the wrappers alone were 3.9 % of the api's CPU. This is
 * the same function without the property: the bound function runs `fn` in the resource's async
 * scope with the caller's `this` (or `thisArg`) and keeps `fn.length`.
 */
export function bindInScope(resource: AsyncResource, fn: Fn, thisArg?: unknown): Fn {
  const bound: Fn =
    thisArg === undefined
      ? function (this: unknown, ...args: unknown[]) {
          return resource.runInAsyncScope(fn, this, ...args);
        }
      : (...args: unknown[]) => resource.runInAsyncScope(fn, thisArg, ...args);
  Object.defineProperty(bound, 'length', {
    configurable: true,
    enumerable: false,
    value: fn.length,
    writable: false,
  });
  return bound;
}

const nodeBind = AsyncResource.prototype.bind;

/**
 * Puts `bindInScope` in place of Node's `bind` where Node's still builds the deprecated property
 * (Node 20 and 22); a Node without it keeps its own. Returns whether it replaced it. Anything that
 * is not a function still goes to Node's, for its error.
 */
export function lightenAsyncResourceBind(): boolean {
  if (!nodeBind.toString().includes('asyncResource')) return false;
  AsyncResource.prototype.bind = function bind<F extends Fn>(this: AsyncResource, fn: F, thisArg?: unknown) {
    if (typeof fn !== 'function')
      return (nodeBind as (fn: unknown, thisArg?: unknown) => never).call(this, fn, thisArg);
    return bindInScope(this, fn, thisArg) as never;
  } as typeof nodeBind;
  return true;
}

/** Node's own `bind` back (tests). */
export function restoreAsyncResourceBind(): void {
  AsyncResource.prototype.bind = nodeBind;
}
