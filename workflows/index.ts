export { executionAttempt, type ExecutionAttemptInput } from './executionAttempt';
export { archiver, type ArchiverInput } from './archiver';
