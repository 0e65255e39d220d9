import { describe, expect, it } from 'vitest';
import { expectLogLine, TestLogger } from '../helpers/quietLogs';

describe('expected SDK warnings in tests', () => {
  it('silences exactly the expected line, once, and lets every other warning through', async () => {
    const printed: string[] = [];
    const logger = new TestLogger('WARN', (entry) => void printed.push(entry.message));
    const expected = expectLogLine(/^Workflow failed .*"workflowId":"att-malformed-1".*invalid proposal/);
    logger.warn('Workflow failed', { workflowId: 'att-other', error: new Error('invalid proposal: field "x"') });
    logger.warn('Workflow failed', { workflowId: 'att-malformed-1', error: new Error('invalid proposal: field "actionType"') });
    await expected.seen;
    // Used up: the same line again is news.
    logger.warn('Workflow failed', { workflowId: 'att-malformed-1', error: new Error('invalid proposal: field "actionType"') });
    logger.info('below the level');
    expect(printed).toEqual(['Workflow failed', 'Workflow failed']);
  });
});
