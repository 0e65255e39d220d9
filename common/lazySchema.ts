/**
 * A schema built on first use instead of at module load. Every workflow evaluates common/ afresh in its own sandbox
 * (module instances are per workflow), and building a zod schema costs about 0.1 ms there, so a module that builds
 * its schemas at load makes every attempt pay for schemas it never uses (freeze statements, MCP relay outcomes…).
 *
 * The returned value stands for the schema everywhere (parse, `.extend`, composition into other schemas, `instanceof`,
 * registries keyed by schema): a Proxy that builds the schema once, on the first property access, and forwards to
 * it. Pure and deterministic: safe in workflows. Schemas that reference another lazy schema must reference the
 * exported lazy value (not a copy of the built one), so identity stays one object for registries.
 */
export function lazySchema<T extends object>(build: () => T): T {
  let built: T | undefined;
  const real = (): T => (built ??= build());
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
