import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { McpToolView } from '../common/mcp';

// Tool schemas come from downstream servers: not strict (unknown keywords are theirs), and `$schema` is dropped so a
// draft-07 or 2020-12 declaration alike compiles with Ajv's default dialect (the keywords tools use are common to both).
const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: false });
const compiled = new Map<string, ValidateFunction | Error>();

/**
 * The first problem of a call's arguments against the tool's input schema, in words naming the argument
 * (`argument "path": must be string`), or null when they conform. A schema Ajv cannot compile is a problem too: the
 * gateway fails closed rather than let unchecked arguments through. Validators are kept per tool version.
 */
export function argumentProblem(tool: McpToolView, args: unknown): string | null {
  let validate = compiled.get(tool.version);
  if (!validate) {
    try {
      const { $schema: _ignored, ...schema } = tool.inputSchema;
      validate = ajv.compile(schema);
    } catch (err) {
      validate = err as Error;
    }
    compiled.set(tool.version, validate);
  }
  if (validate instanceof Error) return `the tool's input schema cannot be checked, so the call is refused: ${validate.message}`;
  if (validate(args)) return null;
  return describe(validate.errors?.[0]);
}

function describe(error: ErrorObject | undefined): string {
  if (!error) return 'the arguments do not match the input schema';
  const at = error.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    return `argument "${[...at, missing].join('.')}" is required`;
  }
  if (error.keyword === 'additionalProperties') {
    const extra = (error.params as { additionalProperty: string }).additionalProperty;
    return `argument "${[...at, extra].join('.')}" is not accepted by this tool`;
  }
  const name = at.length > 0 ? `argument "${at.join('.')}"` : 'the arguments';
  return `${name} ${error.message ?? 'do not match the input schema'}`;
}
