// Consultant console end to end (cmd/hotline/console_e2e_test.go): log in,
// become available, print READY (the Go test then places a SIP call that
// asks for a consultant), wait for the ringing screen-pop, answer with the
// fake microphone, print CONNECTED, let audio flow, read the inbound RTP
// stats, write a note, hang up. A supervisor watches the board meanwhile.
import { launch, env, log, result, screenshot, main, consoleLogin } from './lib.mjs';

const base = env('URL');
const login = (page, user, password, shot) => consoleLogin(page, base, user, password, shot);

main(async () => {
  const ctx = await launch();
  // The supervisor's browser is another Chromium: cookies are per browser.
  const bossCtx = await launch('');
  try {
    const boss = await bossCtx.newPage();
    await login(boss, env('SUPERVISOR'), env('SUPERVISOR_PASSWORD'));

    const page = await ctx.newPage();
    await login(page, env('CONSULTANT'), env('CONSULTANT_PASSWORD'), 'console-login');
    await screenshot(page, 'console-idle');
    await page.click('#pres-available');
    await page.waitForSelector('#pres-available[aria-pressed="true"]');
    log('READY');

    await page.waitForSelector('#call-panel[data-state="ringing"]', { timeout: 120000 });
    const caseNumber = (await page.textContent('#pop-case')).trim();
    const name = (await page.textContent('#pop-name')).trim();
    const disclosed = await page.$$eval('#pop-disclosed li', (ls) => ls.map((l) => l.textContent));
    const transcript = await page.$$eval('#pop-transcript li', (ls) => ls.length);
    await screenshot(page, 'console-ringing');

    await page.click('#btn-answer');
    await page.waitForSelector('#call-panel[data-state="connected"]', { timeout: 20000 });
    log('CONNECTED');
    const candidates = await page.evaluate(() => window.hotlineConsole.candidates);

    // Let the caller's tone arrive, then read what the page received.
    let stats = null;
    for (const deadline = Date.now() + 20000; Date.now() < deadline;) {
      stats = await page.evaluate(async () => {
        let out = null;
        (await window.hotlineConsole.pc.getStats()).forEach((r) => {
          if (r.type === 'inbound-rtp' && r.kind === 'audio') out = { packets: r.packetsReceived, energy: r.totalAudioEnergy || 0 };
        });
        return out;
      });
      if (stats && stats.packets > 150 && stats.energy > 0.05) break;
      await page.waitForTimeout(250); // polling the page's RTP statistics
    }
    await screenshot(page, 'console-call');
    await boss.waitForFunction(() => document.querySelector('#kpi-live').textContent === '1', null, { timeout: 10000 });
    await screenshot(boss, 'console-supervisor');

    await page.fill('#note', 'Klient potwierdził dane, prosi o rozłożenie na raty.');
    await page.click('#btn-note');
    await page.waitForFunction(() => document.querySelector('#note-status').textContent.startsWith('Zapisano'));
    // Keep talking a little longer so the caller's side measures us.
    await page.waitForTimeout(3000);
    await page.click('#btn-hangup');
    await page.waitForSelector('#call-panel[data-state="ended"]', { timeout: 15000 });
    await screenshot(page, 'console-after-call');
    result({ case: caseNumber, name, disclosed, transcript, stats, candidates });
  } finally {
    await ctx.close();
    await bossCtx.close();
  }
});
