/** Once per `vitest run` of the browser suite: Chromium found, or installed where the machine allows (see ensureChromium). */
import { ensureChromium } from './chromium';

export default function setup(): void {
  process.env.CHROMIUM_PATH = ensureChromium({ log: (line) => console.log(`[test setup] ${line}`) });
}
