// Shared Playwright set-up for the Go browser tests (cmd/hotline/browser_test.go).
// Chromium flags from reference/telephony.md §5: fake microphone from a WAV,
// permission granted, loopback ICE candidates allowed, no sandbox (root).
import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function env(name, fallback) {
  const v = process.env[name];
  if (v === undefined || v === '') {
    if (fallback !== undefined) return fallback;
    throw new Error(`missing env ${name}`);
  }
  return v;
}

// launch starts headless Chromium; fakeAudio is an absolute WAV path or ''.
export async function launch(fakeAudio = process.env.FAKE_AUDIO || '') {
  const args = [
    '--no-sandbox', '--disable-gpu',
    '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required',
  ];
  if (fakeAudio) args.push(`--use-file-for-fake-audio-capture=${fakeAudio}`);
  const userDataDir = mkdtempSync(join(tmpdir(), 'hotline-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: env('CHROMIUM', '/usr/bin/chromium'),
    headless: true,
    args,
    viewport: { width: 1280, height: 800 },
    permissions: ['microphone'],
  });
  return context;
}

// log prints a progress line the Go test may react to.
export function log(...parts) { console.log(parts.join(' ')); }

// result prints the one RESULT line the Go test parses.
export function result(obj) { console.log('RESULT ' + JSON.stringify(obj)); }

// screenshot saves page as ARTIFACTS/<SHOT_PREFIX><name>.png (a test that
// reuses another's script names its shots apart with SHOT_PREFIX).
export async function screenshot(page, name) {
  const path = join(env('ARTIFACTS'), `${process.env.SHOT_PREFIX || ''}${name}.png`);
  await page.screenshot({ path, fullPage: true });
  log('screenshot', path);
  return path;
}

// consoleLogin logs page into the consultants' console at base as user
// and waits for its live socket; shot names a screenshot of the login
// form. Page errors go to the log.
export async function consoleLogin(page, base, user, password, shot) {
  page.on('console', (m) => { if (m.type() === 'error') log('page error:', m.text()); });
  page.on('pageerror', (e) => log('page exception:', e.message));
  await page.goto(base + '/console/login');
  if (shot) await screenshot(page, shot);
  await page.fill('#user', user);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(base + '/console'), page.click('button[type=submit]')]);
  await page.waitForSelector('#conn.ok', { timeout: 15000 });
}

// main runs fn and exits non-zero with the error on failure.
export function main(fn) {
  fn().then(() => process.exit(0), (err) => { console.error(err && err.stack || err); process.exit(1); });
}
