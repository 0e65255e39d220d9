export { executionAttempt, type ExecutionAttemptInput } from './executionAttempt';
