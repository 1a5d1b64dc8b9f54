import { AsyncLocalStorage, AsyncResource, executionAsyncId } from 'node:async_hooks';
import { bindInScope, lightenAsyncResourceBind, restoreAsyncResourceBind } from './async-bind';

describe('AsyncResource.bind without the deprecated property', () => {
  afterEach(() => restoreAsyncResourceBind());

  it("runs the function in the resource's scope, with the caller's this or thisArg, and keeps its length", () => {
    const resource = new AsyncResource('test');
    const seen: unknown[] = [];
    function fn(this: unknown, a: number, b: number) {
      seen.push([executionAsyncId(), this, a + b]);
      return a * b;
    }
    const target = { name: 'caller' };
    const bound = bindInScope(resource, fn as never);
    expect(bound.length).toBe(2);
    expect((bound as unknown as (a: number, b: number) => number).call(target, 3, 4)).toBe(12);
    const withThis = bindInScope(resource, fn as never, 'given');
    (withThis as unknown as (a: number, b: number) => number).call(target, 1, 1);
    expect(seen).toEqual([
      [resource.asyncId(), target, 7],
      [resource.asyncId(), 'given', 2],
    ]);
  });

  it("keeps an AsyncLocalStorage store across the bind once it replaces Node's, without the deprecated property", async () => {
    // Node 20 and 22 give every bound function the deprecated property: then, and only then, it is replaced.
    const nodeHasIt = 'asyncResource' in AsyncResource.bind(() => 1);
    expect(lightenAsyncResourceBind()).toBe(nodeHasIt);
    const als = new AsyncLocalStorage<string>();
    const bound = als.run('request-1', () => AsyncResource.bind(() => als.getStore()));
    const read = await new Promise((resolve) => setImmediate(() => resolve(bound())));
    expect(read).toBe('request-1');
    expect('asyncResource' in bound).toBe(false);
    // Node's error for something that is not a function.
    expect(() => AsyncResource.bind(42 as never)).toThrow(/must be of type function/);
  });
});
