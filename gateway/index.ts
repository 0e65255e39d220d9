export { CatalogueCache, type CatalogueSource } from './catalogue';
export { HttpGateway, allowedOriginsFromEnv, type HttpGatewayOptions } from './http';
export { callIdempotencyKey, timeBucket, MCP_IDEMPOTENCY_PREFIX, type CallIdentity } from './idempotency';
export {
  createGatewayServer,
  STATUS_TOOL,
  META_IDEMPOTENCY_KEY,
  META_JUSTIFICATION,
  type GatewayOptions,
  type GatewaySettings,
} from './server';
export { consoleUrlFromEnv, DEFAULT_CONSOLE_URL, gatewaySettings } from './settings';
export { serveStdio } from './stdio';
export { agentForToken, bearerToken, createAgentToken, hashAgentToken, MCP_TOKEN_PREFIX } from './tokens';
