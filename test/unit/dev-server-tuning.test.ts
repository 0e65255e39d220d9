import { describe, expect, it } from 'vitest';
import { EcpError } from '../../common';
import { DEV_SERVER_TUNING, devServerTuningArgs } from '../../worker/devServerTuning';

describe('dev-server tuning (the workflow-task stall, docs/performance.md)', () => {
  it("lifts the one shard's transfer-queue read limit far above what back-to-back attempts need", () => {
    // Each attempt needs ≈ 2 transfer-queue reads (first workflow task, task after the executor); Temporal's default
    // of 20 reads/s caps back-to-back attempts at ≈ 10/s, i.e. ≈ 100 ms each whatever the machine could do.
    expect(DEV_SERVER_TUNING['history.transferProcessorMaxPollRPS']).toBeGreaterThanOrEqual(500);
    const args = devServerTuningArgs({});
    expect(args).toContain('history.transferProcessorMaxPollRPS=1000');
    expect(args).toContain('history.visibilityProcessorMaxPollRPS=1000');
    expect(args.filter((a) => a === '--dynamic-config-value')).toHaveLength(Object.keys(DEV_SERVER_TUNING).length);
  });

  it("ECP_DEV_SERVER_TUNING=0 leaves Temporal's defaults; 1 applies the tuning", () => {
    expect(devServerTuningArgs({ ECP_DEV_SERVER_TUNING: '0' })).toEqual([]);
    expect(devServerTuningArgs({ ECP_DEV_SERVER_TUNING: '1' })).toEqual(devServerTuningArgs({}));
  });

  it('refuses any other value, naming the variable', () => {
    const refused = (() => {
      try {
        devServerTuningArgs({ ECP_DEV_SERVER_TUNING: 'off' });
      } catch (err) {
        return err;
      }
    })();
    expect(refused).toBeInstanceOf(EcpError);
    expect(refused).toMatchObject({ code: 'config_invalid', field: 'ECP_DEV_SERVER_TUNING' });
    expect((refused as Error).message).toMatch(/ECP_DEV_SERVER_TUNING must be 0 or 1, got "off"/);
  });
});
