// "Back to the assistant" end to end (cmd/hotline/console_e2e_test.go):
// the consultant logs in, becomes available, prints READY (the Go test
// places a SIP call that asks for a consultant), answers the ringing call
// with the fake microphone, prints CONNECTED, lets audio flow, presses
// "Do asystenta (oddzwonienie)", waits for the call to leave the console,
// prints BACK, and writes a note about the call.
import { launch, env, log, result, screenshot, main, consoleLogin } from './lib.mjs';

const base = env('URL');

main(async () => {
  const ctx = await launch();
  try {
    const page = await ctx.newPage();
    await consoleLogin(page, base, env('CONSULTANT'), env('CONSULTANT_PASSWORD'));
    await page.click('#pres-available');
    await page.waitForSelector('#pres-available[aria-pressed="true"]');
    log('READY');

    await page.waitForSelector('#call-panel[data-state="ringing"]', { timeout: 120000 });
    await page.click('#btn-answer');
    await page.waitForSelector('#call-panel[data-state="connected"]', { timeout: 20000 });
    log('CONNECTED');
    const candidates = await page.evaluate(() => window.hotlineConsole.candidates);
    // Talk a moment: the caller's audio must be arriving before the handback.
    await page.waitForFunction(async () => {
      let n = 0;
      (await window.hotlineConsole.pc.getStats()).forEach((r) => {
        if (r.type === 'inbound-rtp' && r.kind === 'audio') n = r.packetsReceived;
      });
      return n > 100;
    }, null, { timeout: 20000, polling: 250 });

    await page.click('#btn-back');
    await page.waitForSelector('#call-panel[data-state="ended"]', { timeout: 15000 });
    const status = (await page.textContent('#call-state')).trim();
    log('BACK');

    await page.fill('#note', env('NOTE'));
    await page.click('#btn-note');
    await page.waitForFunction(() => document.querySelector('#note-status').textContent.startsWith('Zapisano'));
    await screenshot(page, 'console-after-back');
    result({ candidates, status, pcClosed: await page.evaluate(() => window.hotlineConsole.pc === null) });
  } finally {
    await ctx.close();
  }
});
