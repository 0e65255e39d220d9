import { z } from 'zod';
import { actionTypeNameSchema, directorySchema } from '../common';
import { DEFAULT_APPROVAL_DEADLINE } from '../common/constants';
import { parseDuration } from '../common/duration';
import { payloadEncryptionSchema } from '../codec/keys';
import { parseSummaryTemplate, SUMMARY_MAX_TEMPLATE_LENGTH, SummaryTemplateError } from '../common/summary';

const durationSchema = z.string().refine((s) => {
  try {
    parseDuration(s);
    return true;
  } catch {
    return false;
  }
}, 'must be a duration like 90s, 30m, 4h or 2d');

/** `${env:NAME}` in URLs and header values is replaced at request time: agents never see credentials. */
const httpRequestSchema = z.strictObject({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
  /** RFC 6570 URI template over {resource}, {attemptId} and top-level parameters. */
  url: z.string().regex(/^(https?:\/\/|\$\{env:)/, 'must be an http(s) URL template (it may start with ${env:NAME})'),
  headers: z.record(z.string(), z.string()).default({}),
});

export const providerSchema = z.union([
  z.strictObject({ http: httpRequestSchema }),
  z.strictObject({ custom: z.string().min(1, 'must name a registered custom context provider') }),
]);

export const executorSchema = z.union([
  z.strictObject({
    http: httpRequestSchema.extend({ body: z.enum(['parameters', 'none']).default('parameters') }),
  }),
  z.strictObject({ custom: z.string().min(1, 'must name a registered custom executor') }),
]);

/**
 * The one-line summary template (common/summary.ts); its syntax is checked here and its placeholders against the
 * action type's declared parameters in {@link actionTypeSchema}, so a typo is a configuration error, not a "—".
 */
const summarySchema = z
  .string()
  .min(1, 'must not be empty (leave it out for no summary)')
  .max(SUMMARY_MAX_TEMPLATE_LENGTH, `must be at most ${SUMMARY_MAX_TEMPLATE_LENGTH} characters`)
  .superRefine((template, ctx) => {
    try {
      parseSummaryTemplate(template);
    } catch (err) {
      if (!(err instanceof SummaryTemplateError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.message });
    }
  });

/** How Temporal retries an executor (the action type's, or an MCP server's for all its tools). */
const retrySchema = z
  .strictObject({
    maximumAttempts: z.number().int().min(1).max(100).default(5),
    initialInterval: durationSchema.default('1s'),
    maximumInterval: durationSchema.default('30s'),
    backoffCoefficient: z.number().min(1).max(10).default(2),
  })
  .prefault({});

export const actionTypeSchema = z
  .strictObject({
    description: z.string().max(500).optional(),
    /** One-line human summary of a proposal, e.g. "Refund {amount|cents} EUR on {orderId}"; presentation only. */
    summary: summarySchema.optional(),
    /** JSON Schema (draft-07, as Ajv's default class validates it) for the proposal's parameters. */
    parameters: z.record(z.string(), z.unknown()).default({ type: 'object' }),
    context: providerSchema.optional(),
    executor: executorSchema,
    retry: retrySchema,
    timeout: durationSchema.default('30s'),
    /**
     * Whether a freeze of its scope may stop a running executor (the kill switch, through heartbeats). Absent means
     * false: the executor finishes and its outcome is recorded. No default, so existing action types keep their version.
     */
    cancellable: z.boolean().optional(),
  })
  .superRefine((type, ctx) => {
    if (type.summary === undefined) return;
    let parts: ReturnType<typeof parseSummaryTemplate>;
    try {
      parts = parseSummaryTemplate(type.summary);
    } catch {
      return; // reported by summarySchema
    }
    for (const part of parts) {
      if (typeof part === 'string' || part.field !== 'parameters' || declaresParameter(type.parameters, part.path)) continue;
      const declared = Object.keys(propertiesOf(type.parameters) ?? {});
      ctx.addIssue({
        code: 'custom',
        path: ['summary'],
        message: `names unknown placeholder "{${part.source}}": "parameters.${part.path.join('.')}" is not declared in this action type's parameters (declared: ${declared.join(', ') || 'none'}; other fields: resource, agent, actionType)`,
      });
      return;
    }
  });

/** The `properties` of a JSON Schema object, when it declares them. */
function propertiesOf(schema: unknown): Record<string, unknown> | null {
  const properties = schema && typeof schema === 'object' ? (schema as { properties?: unknown }).properties : undefined;
  return properties && typeof properties === 'object' && !Array.isArray(properties) ? (properties as Record<string, unknown>) : null;
}

/** True when the parameters' JSON Schema declares the key path through nested `properties`. */
function declaresParameter(schema: unknown, path: readonly string[]): boolean {
  let at = schema;
  for (const key of path) {
    const properties = propertiesOf(at);
    if (!properties || !Object.hasOwn(properties, key)) return false;
    at = properties[key];
  }
  return true;
}

/** `${env:NAME}` and nothing else: a credential the configuration names but never holds. */
const envReferenceSchema = z
  .string()
  .regex(
    /^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$/,
    'must be an environment reference like ${env:ECP_OIDC_CLIENT_SECRET}, never the secret itself',
  );

/**
 * OpenID Connect sign-in (authorization code + PKCE) for the console (docs/console.md "Single sign-on"). The ID
 * token's `claim` names the human: through `humans` (claim value → human ID) when given, else the value itself is the
 * human ID. Either way the human must be in the directory, or the sign-in is refused.
 */
export const consoleOidcSchema = z.strictObject({
  /** The issuer identifier; its `/.well-known/openid-configuration` is read when the console starts. */
  issuer: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL (http only for localhost)' }),
  clientId: z.string().min(1, 'must be the client ID registered at the identity provider'),
  clientSecret: envReferenceSchema,
  /** The console's callback as registered at the identity provider: `<console URL>/auth/oidc/callback`. */
  redirectUrl: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .refine((u) => new URL(u).pathname === '/auth/oidc/callback', 'must end in /auth/oidc/callback (the console serves it there)'),
  /** The ID-token claim that names the human: e.g. `email` (only when `email_verified` is true), `preferred_username`, `sub`. */
  claim: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_.:-]*$/, 'must be a claim name like email or preferred_username')
    .default('email'),
  /** Claim value → human ID; absent: the claim value must itself be a human ID. */
  humans: z.record(z.string().min(1), z.string().min(1)).optional(),
  /** Scopes asked for besides `openid`. */
  scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be a scope token')).default(['email', 'profile']),
  /** The sign-in button's label. */
  label: z.string().min(1).max(60).default('Sign in with SSO'),
});

/**
 * The web console's sign-in: per human, a hash of their secret (never the secret; `ecp console hash-secret` makes
 * one), and/or OpenID Connect (`oidc`). Humans must exist in the directory. Absent section: the console accepts no
 * sign-ins.
 */
export const consoleSchema = z.strictObject({
  oidc: consoleOidcSchema.optional(),
  humans: z
    .record(
      z.string(),
      z.strictObject({ secretHash: z.string().regex(/^scrypt\$/, 'must be a hash from `ecp console hash-secret` (scrypt$…)') }),
    )
    .default({}),
  /** A session ends after this long without a request … */
  sessionIdleTimeout: durationSchema.default('30m'),
  /** … and this long after sign-in, whatever happens. */
  sessionMaxAge: durationSchema.default('12h'),
});

/** `${env:NAME}` placeholders are replaced on the worker when it connects: agents never see these values. */
const envTemplated = z.string().max(4096, 'must be at most 4096 characters');

const mcpServerCommon = {
  /** Executor retries for every tool of this server (a transport failure is retried; a tool's own error is final). */
  retry: retrySchema,
  /** How long one tool call may run. */
  timeout: durationSchema.default('30s'),
  /** Connections the worker keeps to this server; each carries one call at a time. */
  maxConnections: z.number().int().min(1).max(32).default(4),
};

/** One downstream MCP server: a stdio command the worker spawns, or a Streamable HTTP endpoint it calls. */
export const mcpServerSchema = z.union([
  z.strictObject({
    command: z.string().min(1, 'must name the program to run'),
    args: z.array(envTemplated).default([]),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'), envTemplated).default({}),
    cwd: z.string().min(1).optional(),
    ...mcpServerCommon,
  }),
  z.strictObject({
    url: z.string().regex(/^(https?:\/\/|\$\{env:)/, 'must be an http(s) URL (it may start with ${env:NAME})'),
    headers: z.record(z.string(), envTemplated).default({}),
    ...mcpServerCommon,
  }),
]);

/**
 * The MCP gateway (docs/mcp.md): downstream servers whose tools become action types `mcp.<server>.<tool>`, and the
 * agents allowed to connect over HTTP (by a token ECP only keeps a hash of: `ecp mcp token`).
 */
export const mcpSchema = z.strictObject({
  servers: z
    .record(
      z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'must be a lower-case word (letters, digits, _), at most 32 characters'),
      mcpServerSchema,
    )
    .default({}),
  agents: z
    .record(
      z.string(),
      z.strictObject({ tokenHash: z.string().regex(/^sha256\$[0-9a-f]{64}$/, 'must be a hash from `ecp mcp token` (sha256$…)') }),
    )
    .default({}),
  /** How long a call that needs a human is held open before it answers "pending approval" (the attempt goes on). */
  holdTime: durationSchema.default('50s'),
  /** Identical calls (agent, tool, arguments) within this window are the same attempt: a retry never runs twice. */
  idempotencyWindow: durationSchema.default('10m'),
  /** How often a held call sends `notifications/progress` (when the client asked for progress). */
  progressInterval: durationSchema.default('5s'),
});

/** The kill switch (docs/kill-switch-and-notifications.md): who may freeze, how long workers may serve a cached freeze list. */
export const controlsSchema = z.strictObject({
  /** Humans of this directory group sign freezes and unfreezes. */
  freezeGroup: z.string().min(1).max(128),
  /** How long a worker reuses the freeze list it read (new attempts may start this long after a freeze). */
  freezeCache: durationSchema.default('1s'),
});

/** Events a notification channel can be told about. */
export const NOTIFICATION_EVENTS = [
  'awaiting_decision',
  'reminder',
  'escalated',
  'decided',
  'overridden',
  'executed',
  'failed',
  'expired',
  'frozen',
  'unfrozen',
] as const;

const webhookChannelSchema = z.strictObject({
  url: z.string().regex(/^(https?:\/\/|\$\{env:)/, 'must be an http(s) URL (it may start with ${env:NAME})'),
  /** HMAC-SHA256 key for `X-Ecp-Signature`, by reference (e.g. ${env:ECP_WEBHOOK_SECRET}), never inline. */
  secret: z.string().regex(/^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$/, 'must be an environment reference like ${env:ECP_WEBHOOK_SECRET}'),
  /** `json` (the event) or `slack` (a Slack incoming-webhook body: `text` and `blocks`). */
  format: z.enum(['json', 'slack']).default('json'),
});

const emailChannelSchema = z.strictObject({
  smtp: z.strictObject({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(587),
    /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
    secure: z.boolean().default(false),
    user: z.string().optional(),
    /** By reference only. */
    password: z
      .string()
      .regex(/^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$/, 'must be an environment reference like ${env:ECP_SMTP_PASSWORD}')
      .optional(),
  }),
  from: z.email(),
});

/** One channel: webhook or email, the events it takes, and whom it is for (routing). */
export const notificationChannelSchema = z
  .strictObject({
    webhook: webhookChannelSchema.optional(),
    email: emailChannelSchema.optional(),
    /** Default: every event. */
    events: z.array(z.enum(NOTIFICATION_EVENTS)).min(1).optional(),
    /** Routing: only recipients in these groups or among these humans (neither: every recipient of the event). */
    groups: z.array(z.string().min(1)).optional(),
    humans: z.array(z.string().min(1)).optional(),
    /** Put the proposal's parameters in messages (default false: summary, agent, action type and resource only). */
    parameters: z.boolean().default(false),
  })
  .refine((c) => (c.webhook ? 1 : 0) + (c.email ? 1 : 0) === 1, 'needs exactly one of `webhook` or `email`');

/** Notifications (docs/kill-switch-and-notifications.md): channels, deep links, human e-mail addresses, delivery tries. */
export const notificationsSchema = z.strictObject({
  /** The console's base URL for deep links (`<consoleUrl>/attempts/<attemptId>`). */
  consoleUrl: z.url(),
  /** E-mail address of each human that e-mail channels may write to. */
  emails: z.record(z.string().min(1), z.email()).default({}),
  channels: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be a short lower-case name'), notificationChannelSchema),
  /** How often the notifier looks for new events. */
  pollInterval: durationSchema.default('5s'),
  /** Delivery tries per message before it is recorded as failed. */
  maxAttempts: z.number().int().min(1).max(50).default(8),
});

export const configFileSchema = z.strictObject({
  /** Folder with `*.cedar` policies and `schema.cedarschema`, relative to the config file. */
  policies: z.string().default('./policies'),
  /** The directory inline, or a path to a YAML/JSON file holding it. */
  directory: z.union([z.string(), directorySchema]),
  /** Action types inline, or a path to a YAML/JSON file holding them. */
  actionTypes: z.union([z.string(), z.record(actionTypeNameSchema, actionTypeSchema)]),
  defaults: z.strictObject({ approvalDeadline: durationSchema.default(DEFAULT_APPROVAL_DEADLINE) }).prefault({}),
  console: consoleSchema.optional(),
  /** AES-256-GCM encryption of payloads in Temporal's history (codec/); keys by reference, never inline. */
  payloadEncryption: payloadEncryptionSchema.optional(),
  /** The MCP gateway and its downstream servers; absent: no MCP. */
  mcp: mcpSchema.optional(),
  /** The kill switch; absent: no freezes can be made and attempts do not read them. */
  controls: controlsSchema.optional(),
  /** Notification channels; absent: no notifier runs. */
  notifications: notificationsSchema.optional(),
});

export const actionTypesFileSchema = z.record(actionTypeNameSchema, actionTypeSchema);

export type ConsoleConfig = z.output<typeof consoleSchema>;
export type ConsoleOidcConfig = z.output<typeof consoleOidcSchema>;
export type McpConfig = z.output<typeof mcpSchema>;
export type ControlsConfig = z.output<typeof controlsSchema>;
export type NotificationsConfig = z.output<typeof notificationsSchema>;
export type NotificationChannelConfig = z.output<typeof notificationChannelSchema>;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];
export type McpServerConfig = z.output<typeof mcpServerSchema>;
/** The executor of an action type made from an MCP tool (config/mcpActionTypes.ts); never written in ecp.yaml. */
export interface McpExecutorConfig {
  mcp: { server: string; tool: string };
}
export type ExecutorConfig = z.output<typeof executorSchema> | McpExecutorConfig;
export type ActionTypeConfig = Omit<z.output<typeof actionTypeSchema>, 'executor'> & { executor: ExecutorConfig };
export type ProviderConfig = z.output<typeof providerSchema>;
