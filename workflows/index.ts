export { executionAttempt, type ExecutionAttemptInput } from './executionAttempt';
export { archiver, type ArchiverInput } from './archiver';
export { mcpToolCatalogue, type McpToolCatalogueInput } from './mcpCatalogue';
export { mcpRelay } from './mcpRelay';
