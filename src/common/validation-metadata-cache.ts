import { getMetadataStorage } from 'class-validator';

type Storage = ReturnType<typeof getMetadataStorage>;
type Lookup = Storage['getTargetValidationMetadatas'];

const CACHED = Symbol('validation-metadata-cache');

/**
 * class-validator looks a DTO's rules up on every validation by scanning every class it knows
 * (an `instanceof` per registered class, for inherited rules): ~1 % of `POST /send`'s CPU with
 * this service's ~200 DTO classes. The rules are fixed once the decorators have run, so each
 * lookup is remembered per class and options, and forgotten whenever a rule is added.
 */
export function cacheValidationMetadata(storage: Storage = getMetadataStorage()): void {
  const s = storage as Storage & { [CACHED]?: true };
  if (s[CACHED]) return;
  s[CACHED] = true;
  const lookup: Lookup = s.getTargetValidationMetadatas.bind(s);
  let cache = new WeakMap<object, Map<string, ReturnType<Lookup>>>();
  s.getTargetValidationMetadatas = (target, schema, always, strictGroups, groups) => {
    const key = `${schema}\u0000${always}\u0000${strictGroups}\u0000${groups?.join('\u0001') ?? ''}`;
    let byKey = cache.get(target);
    if (!byKey) cache.set(target, (byKey = new Map()));
    let found = byKey.get(key);
    if (!found) byKey.set(key, (found = lookup(target, schema, always, strictGroups, groups)));
    return found;
  };
  for (const name of ['addValidationMetadata', 'addConstraintMetadata', 'addValidationSchema'] as const) {
    const add = (s[name] as (...a: unknown[]) => void).bind(s);
    (s as unknown as Record<string, (...a: unknown[]) => void>)[name] = (...a: unknown[]) => {
      cache = new WeakMap();
      add(...a);
    };
  }
}
