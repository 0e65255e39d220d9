import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { JsonSchemaType, JsonSchemaValidator, jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';

/** Distinct schemas kept compiled; past this the cache starts afresh (a server inventing schemas cannot grow memory). */
export const MAX_CACHED_SCHEMAS = 512;

/**
 * The JSON Schema validator provider every downstream MCP `Client` of the worker uses: the SDK's own (Ajv, the SDK's
 * default settings, so a tool's `structuredContent` is checked against its `outputSchema` exactly as before), with
 * each distinct schema compiled once per worker. The SDK compiles every listed tool's output schema again on every
 * `tools/list`, and a listing runs before each evaluation and each execution of an MCP attempt (the rug-pull check):
 * without this cache that compilation was most of an auto-allowed call's MCP cost, and Ajv kept every copy it
 * compiled. Keyed by the schema's JSON text, so a changed schema is a new entry and is compiled from what was listed.
 */
export class CachedSchemaValidators implements jsonSchemaValidator {
  #ajv = new AjvJsonSchemaValidator();
  readonly #compiled = new Map<string, JsonSchemaValidator<unknown>>();
  /** How many schemas were compiled (not served from the cache): for tests. */
  compilations = 0;

  getValidator<T>(schema: JsonSchemaType): JsonSchemaValidator<T> {
    const key = JSON.stringify(schema);
    let validator = this.#compiled.get(key);
    if (!validator) {
      if (this.#compiled.size >= MAX_CACHED_SCHEMAS) {
        // A fresh Ajv too: Ajv keeps every schema it compiled, so clearing only this map would free nothing.
        this.#compiled.clear();
        this.#ajv = new AjvJsonSchemaValidator();
      }
      validator = this.#ajv.getValidator(schema);
      this.compilations += 1;
      this.#compiled.set(key, validator);
    }
    return validator as JsonSchemaValidator<T>;
  }
}

/** The worker's one provider, shared by all its downstream connections. */
export const workerSchemaValidators = new CachedSchemaValidators();
