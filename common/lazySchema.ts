/**
 * Schemas built on first use, once per JavaScript realm, under a name.
 *
 * Every workflow evaluates common/ afresh in its own sandbox (module instances are per workflow), and building a zod
 * schema costs about 0.1 ms there; parsing with a fresh schema costs more again (zod walks it and compiles a parser on
 * its first parse). So schemas are neither built at module load nor kept per module instance: they are kept here, by
 * name. This module is preloaded into the workflow bundle (workflows/bundle.ts `sharedWorkflowModules`), so one
 * instance of it, and of every schema it keeps, serves all the workflows of a worker's sandbox; in plain Node it is
 * an ordinary module. A schema is pure and deterministic (its lazily derived state — the parser zod compiles, what it
 * learns walking the schema — changes no result), so sharing it across workflows changes nothing a workflow
 * computes, live or in replay. So a build may capture only immutable values: zod, constants, pure functions and other
 * shared schemas — never module state a workflow changes.
 *
 * The SDK freezes what a preloaded module exports; the cache is module state no export reaches, so it stays usable.
 */
const built = new Map<string, { source: string; value: object }>();
/** Builders already matched against their name's source: the check's `toString` runs once per builder, not per call. */
const checked = new WeakSet<() => object>();

/**
 * The value `build` returns, built once per realm under `name`. Names are global: a second builder under a name
 * already built from different code throws, so two schemas can never be confused.
 */
export function sharedSchema<T extends object>(name: string, build: () => T): T {
  const entry = built.get(name);
  if (entry) {
    if (!checked.has(build)) {
      if (entry.source !== build.toString()) throw new Error(`schema name "${name}" is used by two different schema builders`);
      checked.add(build);
    }
    return entry.value as T;
  }
  const value = build();
  built.set(name, { source: build.toString(), value });
  checked.add(build);
  return value;
}

/**
 * A schema built on first use ({@link sharedSchema}). The returned value stands for the schema everywhere (parse,
 * `.extend`, composition into other schemas, `instanceof`, registries keyed by schema): a Proxy that fetches the
 * schema on the first property access and forwards to it. Schemas that reference another lazy schema must reference
 * the exported lazy value (not a copy of the built one), so identity stays one object for registries.
 */
export function lazySchema<T extends object>(name: string, build: () => T): T {
  let resolved: T | undefined;
  const real = (): T => (resolved ??= sharedSchema(name, build));
  return new Proxy({} as T, {
    get: (_, key) => Reflect.get(real(), key),
    set: (_, key, value) => Reflect.set(real(), key, value),
    has: (_, key) => Reflect.has(real(), key),
    ownKeys: () => Reflect.ownKeys(real()),
    getOwnPropertyDescriptor: (_, key) => {
      const desc = Reflect.getOwnPropertyDescriptor(real(), key);
      // The proxy's own (empty) target cannot vouch for a non-configurable property: report it configurable.
      return desc && { ...desc, configurable: true };
    },
    defineProperty: (_, key, desc) => Reflect.defineProperty(real(), key, desc),
    deleteProperty: (_, key) => Reflect.deleteProperty(real(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(real()),
  });
}
