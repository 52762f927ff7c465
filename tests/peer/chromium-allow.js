#!/usr/bin/env node
// A real browser for the browser tests: headless Chromium (Debian's /usr/bin/chromium) driven
// by playwright-core, used (through a small wrapper) as $BROWSER by sipgate-oauth.
//
// Usage: node chromium-allow.js [--deny] [--screenshot FILE] AUTHORIZATION_URL
//
// Opens the authorization URL, clicks the sign-in page's "Allow" button ("Deny" with --deny),
// waits until the browser is at the redirect_uri named in the authorization URL (the CLI's
// loopback callback) and its page has rendered, saves a screenshot there (if asked), prints the
// page's text on stderr and exits 0 if:
//   allow: the page says the sign-in completed (text matches /signed in|sign-in completed|sipgate-oauth/i)
//   deny:  the browser reached the callback (what the CLI does then is the test's business)
// Exit 1 with a reason on stderr otherwise. Never prints the URL's query (code, state).
// PEER_CHROMIUM overrides the browser executable (default /usr/bin/chromium).
import { chromium } from 'playwright-core';

const say = (...args) => console.error('[chromium]', ...args);
const args = process.argv.slice(2);
let deny = false;
let screenshot;
let start;
while (args.length) {
  const a = args.shift();
  if (a === '--deny') deny = true;
  else if (a === '--screenshot') screenshot = args.shift();
  else start = a;
}
if (!start) { say('usage: chromium-allow.js [--deny] [--screenshot FILE] AUTHORIZATION_URL'); process.exit(2); }

const redirectUri = new URL(new URL(start).searchParams.get('redirect_uri') ?? 'invalid:');
const callbackBase = `${redirectUri.origin}${redirectUri.pathname}`;
const atCallback = (u) => { const x = new URL(u); return `${x.origin}${x.pathname}` === callbackBase; };

const browser = await chromium.launch({
  executablePath: process.env.PEER_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  chromiumSandbox: false, // --no-sandbox: we run as root
  // playwright-core adds --headless and a fresh --user-data-dir of its own.
  args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  timeout: 60_000,
});
let code = 1;
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(30_000);
  await page.goto(start, { waitUntil: 'load' });
  say('sign-in page:', new URL(page.url()).pathname, '-', JSON.stringify(await page.title()));
  const name = deny ? /deny|decline|cancel|reject/i : /allow|approve|authori[sz]e|accept|sign in/i;
  const button = page.getByRole('button', { name }).first();
  await Promise.all([
    page.waitForURL(atCallback, { waitUntil: 'load' }),
    button.click(),
  ]);
  const text = (await page.locator('body').innerText()).replace(/\s+/g, ' ').trim();
  say('callback page:', JSON.stringify(await page.title()), '-', text.slice(0, 200));
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  if (deny) code = 0;
  else if (/signed in|sign-in completed|sipgate-oauth/i.test(`${await page.title()} ${text}`)) code = 0;
  else say('the callback page does not say the sign-in completed');
} catch (err) {
  say('failed:', err.message.split('\n')[0]);
} finally {
  await browser.close();
}
process.exit(code);
