// The consultants' callbacks panel (cmd/hotline/handoff_e2e_test.go): the
// consultant logs in, waits for the due callback in "Oddzwonienia" (phone
// masked), clicks "Biorę", reads the full number and the case, reports
// "Nie odebrano" and sees the panel empty again.
import { launch, env, log, result, screenshot, main, consoleLogin } from './lib.mjs';

const base = env('URL');
const id = env('CALLBACK');

main(async () => {
  const ctx = await launch();
  try {
    const page = await ctx.newPage();
    await consoleLogin(page, base, env('CONSULTANT'), env('CONSULTANT_PASSWORD'));
    const row = `#cb-list tr[data-id="${id}"]`;
    await page.waitForSelector(row, { timeout: 20000 }); // the first load or a refresh
    const masked = (await page.textContent(`${row} td:nth-child(4)`)).trim();
    const count = (await page.textContent('#cb-count')).trim();
    await screenshot(page, 'console-callbacks-list');

    await page.click(`${row} button`);
    await page.waitForSelector('#cb-current:not([hidden])', { timeout: 10000 });
    const phone = (await page.textContent('#cb-phone')).trim();
    const href = await page.getAttribute('#cb-phone', 'href');
    const caseNumber = (await page.textContent('#cb-case')).trim();
    const mine = (await page.textContent(`${row} td:last-child`)).trim();
    await screenshot(page, 'console-callback-taken');

    await page.click('#cb-current button[data-outcome="no-answer"]');
    await page.waitForSelector('#cb-current[hidden]', { state: 'attached', timeout: 10000 });
    await page.waitForFunction((r) => !document.querySelector(r), row, { timeout: 10000 });
    const status = (await page.textContent('#cb-status')).trim();
    await screenshot(page, 'console-callback-reported');
    result({ masked, count, phone, href, caseNumber, mine, status });
  } finally {
    await ctx.close();
  }
});
