import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

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

/** Signs `human` in on the console at `web.url` with their demo secret, and waits for their inbox. */
export async function signIn(page: Page, web: { url: string; secrets: Record<string, string> }, human: string): Promise<void> {
  await page.goto(web.url);
  await page.getByLabel('Human ID').fill(human);
  await page.getByLabel('Sign-in secret').fill(web.secrets[human]!);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: /Awaiting your decision/ }).waitFor();
}

/** A fresh browser context (its own cookies) with `human` signed in. */
export async function signedInPage(browser: Browser, web: { url: string; secrets: Record<string, string> }, human: string): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage();
  await signIn(page, web, human);
  return page;
}
