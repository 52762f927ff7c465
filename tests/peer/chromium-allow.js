#!/usr/bin/env node
// A real browser for the browser tests: headless Chromium (Debian's /usr/bin/chromium) driven
// by playwright-core, used (through a small wrapper) as $BROWSER by sipgate-oauth.
//
// Usage: node chromium-allow.js [--deny] [--screenshot FILE.png] AUTHORIZATION_URL
//
// Opens the authorization URL and acts like a person until the browser is at the redirect_uri
// named in that URL (the CLI's loopback callback), page by page:
//   - types a login ("peer-user", or PEER_LOGIN) and a password into such fields, if any;
//   - clicks the button that says yes: Allow / Approve / Authorize / Accept, else
//     Continue / Sign in / Log in (with --deny: the button or link that says Deny / Cancel / …).
// At the callback it saves a screenshot (FILE; the first page also as FILE-signin.png), prints
// the page's title and text on stderr, and exits 0 if:
//   allow: the page says the sign-in completed (/signed in|sign-in completed/i, and no /fail|error|denied/i)
//   deny:  the page says it failed (/fail|error|denied/i); what the CLI does is the test's business
// Exit 1 with a reason on stderr otherwise. It never prints the URL's query (code, state).
//
// The browser reaches loopback addresses only: any other request is aborted (and no other host
// name resolves), so pages that link fonts or scripts elsewhere cause no outside traffic.
// PEER_CHROMIUM overrides the executable (default /usr/bin/chromium).
import { launchChromium, loopbackPage } from './chromium.js';

const MAX_PAGES = 10;
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
if (!start) {
  say('usage: chromium-allow.js [--deny] [--screenshot FILE.png] AUTHORIZATION_URL');
  process.exit(2);
}

// sipgate-oauth hands a browser a one-time loopback start address that redirects to the authorization URL;
// it is followed here once to learn the redirect_uri, and Chromium then opens the authorization URL itself.
if (!new URL(start).searchParams.get('redirect_uri')) {
  const response = await fetch(start, { redirect: 'manual' });
  start = new URL(response.headers.get('location') ?? 'invalid:', start).href;
}
const redirectUri = new URL(new URL(start).searchParams.get('redirect_uri') ?? 'invalid:');
const callbackBase = `${redirectUri.origin}${redirectUri.pathname}`;
const atCallback = (u) => { const x = new URL(u); return `${x.origin}${x.pathname}` === callbackBase; };
const path = (u) => new URL(u).pathname;

const YES = [/^\s*(allow|approve|authori[sz]e|accept|grant)\b/i, /continue|sign[- ]?in|log[- ]?in|submit|yes/i];
const NO = [/deny|decline|cancel|reject|abort/i];

async function clickable(page, patterns) {
  for (const name of patterns) {
    for (const role of ['button', 'link']) {
      if (role === 'link' && patterns === YES) continue; // saying yes is a button press
      const candidate = page.getByRole(role, { name }).first();
      if (await candidate.count() && await candidate.isVisible()) return candidate;
    }
  }
  return undefined;
}

const browser = await launchChromium();
let code = 1;
try {
  const page = await loopbackPage(browser);
  await page.goto(start, { waitUntil: 'load' });
  if (screenshot) await page.screenshot({ path: screenshot.replace(/(\.png)?$/, '-signin.png'), fullPage: true });
  for (let n = 0; n < MAX_PAGES && !atCallback(page.url()); n += 1) {
    say('page', path(page.url()), '-', JSON.stringify(await page.title()));
    if (!deny) {
      for (const field of await page.locator('input[name=login], input[name=username], input[type=email]').all()) {
        if (await field.isVisible() && !(await field.inputValue())) await field.fill(process.env.PEER_LOGIN || 'peer-user');
      }
      for (const field of await page.locator('input[type=password]').all()) {
        if (await field.isVisible()) await field.fill('any-password');
      }
    }
    const target = await clickable(page, deny ? NO : YES);
    if (!target) throw new Error(`no ${deny ? 'deny' : 'allow'} button on ${path(page.url())}`);
    say('clicking', JSON.stringify((await target.innerText()).trim()));
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), target.click()]);
  }
  if (!atCallback(page.url())) throw new Error(`not at the callback after ${MAX_PAGES} pages`);
  const title = await page.title();
  const text = (await page.locator('body').innerText()).replace(/\s+/g, ' ').trim();
  say('callback page:', JSON.stringify(title), '-', text.slice(0, 200));
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  const shown = `${title} ${text}`;
  const failed = /fail|error|denied/i.test(shown);
  if (deny) {
    if (failed) code = 0;
    else say('the callback page does not say the sign-in failed');
  } else if (/signed in|sign-in completed/i.test(shown) && !failed) code = 0;
  else say('the callback page does not say the sign-in completed');
} catch (err) {
  say('failed:', err.message.split('\n')[0]);
} finally {
  await browser.close();
}
process.exit(code);
