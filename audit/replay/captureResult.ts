/**
 * Workflow interceptor for audit replay only (bundled into a separate replay bundle, never into the plane's worker):
 * hands the workflow's return value to the `ecpReplay` sink so the verifier can compare what the code computes from
 * the history with the record the history ends with. Runs in the workflow sandbox: no Node built-ins.
 */
import { proxySinks, type Sinks, type WorkflowInterceptorsFactory } from '@temporalio/workflow';

export interface ReplayCaptureSinks extends Sinks {
  ecpReplay: { completed(result: unknown): void };
}

const { ecpReplay } = proxySinks<ReplayCaptureSinks>();

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      async execute(input, next) {
        const result = await next(input);
        ecpReplay.completed(result);
        return result;
      },
    },
  ],
});
