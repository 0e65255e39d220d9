import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

import { HOW_TO_GET_CHROMIUM } from '../helpers/chromium';

/** Debian's chromium, found or installed by the browser suite's globalSetup (test/helpers/chromium.ts). CHROMIUM_PATH overrides. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH}. ${HOW_TO_GET_CHROMIUM}`);
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
