export { executionAttempt, executionAttemptV2, type ExecutionAttemptInput } from './executionAttempt';
export { archiver, type ArchiverInput } from './archiver';
export { mcpToolCatalogue, type McpToolCatalogueInput } from './mcpCatalogue';
export { controls, type ControlsInput } from './controls';
export { notifier, notification, type NotifierInput, type NotificationInput } from './notifier';
export { mcpRelay } from './mcpRelay';
