import { afterEach, describe, expect, it, vi } from 'vitest';
import { freeLoopbackPort, planServices } from '../../worker/cluster/services';

afterEach(() => vi.restoreAllMocks());

describe('ports planned for a cluster', () => {
  it('never hands out the same port twice, though a port checked free is not held', async () => {
    // The same random draw three times, then another: the second draw must be skipped, not returned again.
    const draws = [0.25, 0.25, 0.25, 0.75];
    vi.spyOn(Math, 'random').mockImplementation(() => draws.shift() ?? Math.random());
    const first = await freeLoopbackPort();
    const second = await freeLoopbackPort();
    expect(second).not.toBe(first);
  });

  it('gives every process of a plan its own ports, all below 32768', async () => {
    const specs = await planServices(await freeLoopbackPort(), 2);
    const ports = specs.flatMap((s) => [s.grpcPort, s.membershipPort, ...(s.httpPort ? [s.httpPort] : [])]);
    expect(new Set(ports).size).toBe(ports.length);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThan(32_768);
    }
  });
});
