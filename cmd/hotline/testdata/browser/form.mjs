// Callback request form end to end (cmd/hotline/form_e2e_test.go): open
// /oddzwonienie, send it empty and read the messages next to the fields,
// then fill it in as a person would (Polish phone format, first offered
// slot, consent) and read the confirmation. Screenshots of both states.
import { launch, env, result, screenshot, main } from './lib.mjs';

main(async () => {
  const ctx = await launch('');
  try {
    const page = await ctx.newPage();
    await page.goto(env('URL') + '/oddzwonienie');
    await screenshot(page, 'form-empty');

    await Promise.all([page.waitForLoadState('domcontentloaded'), page.click('button[type=submit]')]);
    await page.waitForSelector('#phone-error');
    const errors = {
      phone: (await page.textContent('#phone-error')).trim(),
      slot: (await page.textContent('#slot-error')).trim(),
      consent: (await page.textContent('#consent-error')).trim(),
    };
    await screenshot(page, 'form-errors');

    await page.fill('#phone', '601-234-567');
    await page.fill('#case_number', '12345678');
    // The first offered slot (the first option inside a day's group).
    const chosen = await page.$eval('#slot optgroup option', (o) => o.value);
    const label = await page.$eval('#slot optgroup option', (o) => o.parentElement.label + ' ' + o.textContent);
    await page.selectOption('#slot', chosen);
    await page.check('#consent');
    await Promise.all([page.waitForSelector('#confirmation'), page.click('button[type=submit]')]);
    const confirmation = (await page.textContent('#confirmation')).trim();
    await screenshot(page, 'form-confirmed');
    result({ errors, chosen, label, confirmation });
  } finally {
    await ctx.close();
  }
});
