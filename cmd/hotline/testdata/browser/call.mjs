// Browser caller end to end (cmd/hotline/browser_call_e2e_test.go): open the
// test call page, click "Zadzwoń" (the fake microphone plays FAKE_AUDIO),
// answer the assistant's questions on the on-screen keypad (case number,
// date of birth, 1 for the debt), wait for the debt amount subtitle, read
// what the server reports hearing and what the page received, hang up.
import { launch, env, log, result, screenshot, main } from './lib.mjs';

const base = env('URL');
const CASE = env('CASE_NUMBER', '12345678#');
const DOB = env('BIRTH_DATE', '02011980');

// waitSubtitle waits until the page shows a subtitle containing text.
async function waitSubtitle(page, text, timeout = 90000) {
  await page.waitForFunction((t) => window.hotline.subtitles.some((s) => s.includes(t)), text, { timeout, polling: 100 });
  log('subtitle', text);
}

async function keys(page, digits) {
  for (const k of digits) {
    await page.click(`#keypad button[data-key="${k}"]`);
  }
  log('pressed', digits.length, 'keys');
}

main(async () => {
  const ctx = await launch();
  try {
    const page = await ctx.newPage();
    page.on('console', (m) => { if (m.type() === 'error') log('page error:', m.text()); });
    page.on('pageerror', (e) => log('page exception:', e.message));
    await page.goto(base + '/');
    await screenshot(page, 'call-idle');

    await page.click('#call');
    await page.waitForFunction(() => window.hotline.state === 'connected', null, { timeout: 20000 });
    log('CONNECTED', await page.evaluate(() => window.hotline.callId.length));

    await waitSubtitle(page, 'numer akt sprawy');
    await keys(page, CASE);
    await waitSubtitle(page, 'datę urodzenia');
    await keys(page, DOB);
    await waitSubtitle(page, 'Informacje o zadłużeniu');
    await keys(page, '1');
    await waitSubtitle(page, 'Łączna kwota do zapłaty');

    // The server reports once a second what it decoded from our microphone.
    await page.waitForFunction(() => window.hotline.serverRx.packets > 100, null, { timeout: 15000 });
    const stats = await page.waitForFunction(async () => {
      const s = await window.hotline.stats();
      return s && s.inbound && s.inbound.packets > 100 && s.inbound.energy > 0 ? s : null;
    }, null, { timeout: 15000, polling: 250 }).then((h) => h.jsonValue());
    await page.waitForTimeout(300); // let the last subtitle's scroll settle for the screenshot
    await screenshot(page, 'call-connected');

    const during = await page.evaluate(() => ({
      subtitles: window.hotline.subtitles, keys: window.hotline.keys,
      serverRx: window.hotline.serverRx, state: window.hotline.state,
      trickle: window.hotline.trickle, candidates: window.hotline.candidates,
      status: document.getElementById('status-text').textContent,
    }));

    await page.click('#hangup');
    await page.waitForFunction(() => window.hotline.state === 'ended', null, { timeout: 10000 });
    await page.mouse.move(0, 0);
    await page.waitForTimeout(400); // let the meters and keypad fade out for the screenshot
    await screenshot(page, 'call-ended');
    const after = await page.evaluate(() => ({
      state: window.hotline.state, cause: window.hotline.cause,
      status: document.getElementById('status-text').textContent,
    }));
    result({ ...during, stats, after });
  } finally {
    await ctx.close();
  }
});
