// Harness check: open URL and report the page text.
import { launch, env, result, main } from './lib.mjs';

main(async () => {
  const ctx = await launch('');
  try {
    const page = await ctx.newPage();
    await page.goto(env('URL'));
    result({ body: await page.textContent('body') });
  } finally {
    await ctx.close();
  }
});
