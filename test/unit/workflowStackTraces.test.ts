import { describe, expect, it } from 'vitest';
import { WORKFLOW_STACK_TRACES_ENV, workflowStackTracesFromEnv } from '../../worker/workflowThreads';

describe('ECP_WORKFLOW_STACK_TRACES', () => {
  it('is off unless switched on', () => {
    expect(workflowStackTracesFromEnv({})).toBe(false);
    for (const off of ['', ' ', '0', 'false', 'OFF']) expect(workflowStackTracesFromEnv({ [WORKFLOW_STACK_TRACES_ENV]: off })).toBe(false);
    for (const on of ['1', 'true', 'On', ' 1 ']) expect(workflowStackTracesFromEnv({ [WORKFLOW_STACK_TRACES_ENV]: on })).toBe(true);
  });

  it('refuses anything else, naming the variable and the values it takes', () => {
    expect(() => workflowStackTracesFromEnv({ [WORKFLOW_STACK_TRACES_ENV]: 'yes please' })).toThrow(
      expect.objectContaining({
        code: 'config_invalid',
        field: WORKFLOW_STACK_TRACES_ENV,
        message: expect.stringMatching(/"yes please" must be one of 1, true, on/),
      }),
    );
  });
});
