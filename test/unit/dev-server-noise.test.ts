import { describe, expect, it } from 'vitest';
import { isDevServerNews } from '../../worker/devServer';

describe("the embedded dev server's output", () => {
  it('drops the warning the limits probe provokes, and nothing else about blobs', () => {
    const probe =
      'time=2026-11-29T02:14:14.099 level=WARN msg="Blob data size exceeds the warning limit." service=frontend wf-namespace=x wf-id=ecp-limits-probe-ef2a2070 wf-run-id="" wf-size=525346';
    expect(isDevServerNews(probe)).toBe(false);
    expect(isDevServerNews(probe.replace('ecp-limits-probe-ef2a2070', 'att-1234'))).toBe(true);
    expect(isDevServerNews('time=… level=ERROR msg="something real"')).toBe(true);
  });
});
