// The stand-in's pages in a real browser: headless Chromium (Debian's /usr/bin/chromium, playwright-core)
// opens what `sipgate-oauth login` prints against `sipgate-oauth mock`, and the test checks each page the
// way a person reads it, with DOM assertions (never pixels), saving a screenshot of each:
//   - the sign-in page: the "local stand-in, not sipgate" notice first on the page and inside the
//     viewport, the client id, every requested scope with what it allows (as `scopes --json` says), the
//     redirect target, Allow / Deny;
//   - the page of a callback with a wrong state: the tool is still waiting for the right sign-in;
//   - the success page (the CLI's own callback): one "close this tab", the profile, the granted scopes;
//   - the device approval page: the user code being approved, the notice first.
// Run: `node --test` in tests/peer after `cargo build` and `.ci/peer-setup` (the peer stage of .ci/run).
// SIPGATE_OAUTH_CLI names another build of the CLI; PEER_CHROMIUM another Chromium. Screenshots land in
// a temp dir, printed as a diagnostic; it is removed afterwards unless PAGES_KEEP_SCREENSHOTS is set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, loopbackPage } from './chromium.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = process.env.SIPGATE_OAUTH_CLI || resolve(here, '../../target/debug/sipgate-oauth');
const dir = mkdtempSync(join(tmpdir(), 'pages-chromium-'));
const shots = join(dir, 'screenshots');
const SCOPES = ['account:read', 'history:read'];
const children = [];
let browser;
let envFile;
let meanings;

// A child whose output is kept; `until(stream, re)` resolves with the first match of `re` in it.
function start(args, options = {}) {
  const child = spawn(cli, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
  children.push(child);
  const text = { stdout: '', stderr: '' };
  const waiting = [];
  const check = () => {
    for (const w of [...waiting]) {
      const m = w.re.exec(text[w.stream]);
      if (m) { waiting.splice(waiting.indexOf(w), 1); w.resolve(m); }
    }
  };
  for (const stream of ['stdout', 'stderr']) {
    child[stream].setEncoding('utf8');
    child[stream].on('data', (chunk) => { text[stream] += chunk; check(); });
  }
  const exited = new Promise((resolveExit) => child.on('exit', (code, signal) => {
    for (const w of waiting.splice(0)) {
      w.reject(new Error(`${args[0]} exited (${code ?? signal}) before printing ${w.re}:\n${text.stderr}`));
    }
    resolveExit(code);
  }));
  const until = (stream, re) => new Promise((resolveMatch, reject) => {
    waiting.push({ stream, re, resolve: resolveMatch, reject });
    check();
  });
  return { child, text, until, exited };
}

before(async () => {
  assert.ok(existsSync(cli), `no CLI at ${cli}: run cargo build first (or set SIPGATE_OAUTH_CLI)`);
  meanings = new Map(JSON.parse(execFileSync(cli, ['scopes', '--json'])).map((s) => [s.scope, s.meaning]));
  const mock = start(['mock', '--port', '0', '--quiet', '--device-interval', '1']);
  await mock.until('stdout', /^REDIRECT_URI=.*$/m);
  const env = Object.fromEntries(mock.text.stdout.split('\n').map((l) => /^([A-Z_]+)=(.*)$/.exec(l)).filter(Boolean)
    .map(([, k, v]) => [k, v]));
  assert.ok(env.AUTH_URL && env.TOKEN_URL && env.CLIENT_ID, `the stand-in printed its .env lines:\n${mock.text.stdout}`);
  // Port 0: the CLI's callback listens on a free port, which the stand-in accepts for 127.0.0.1 (RFC 8252).
  envFile = join(dir, 'stand-in.env');
  writeFileSync(envFile, [
    `AUTH_URL=${env.AUTH_URL}`, `TOKEN_URL=${env.TOKEN_URL}`, `TEST_API_ENDPOINT=${env.TEST_API_ENDPOINT}`,
    `CLIENT_ID=${env.CLIENT_ID}`, `CLIENT_SECRET=${env.CLIENT_SECRET}`, `OAUTH_SCOPE="${SCOPES.join(' ')}"`,
    'REDIRECT_URI=http://127.0.0.1:0/oauth', '',
  ].join('\n'));
  browser = await launchChromium();
  console.error(`# screenshots in ${shots}`);
});

after(async () => {
  await browser?.close();
  for (const child of children) if (child.exitCode === null) child.kill();
  if (!process.env.PAGES_KEEP_SCREENSHOTS) rmSync(dir, { recursive: true, force: true });
});

function login(args) {
  return start(['--env-file', envFile, '--timeout', '120', ...args], {
    env: { ...process.env, SIPGATE_OAUTH_STORE: join(dir, 'store'), BROWSER: '' },
    cwd: dir,
  });
}

const newPage = () => loopbackPage(browser, { viewport: { width: 1024, height: 700 } });

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

// The page's visible text, whitespace folded.
const textOf = async (locator) => (await locator.innerText()).replace(/\s+/g, ' ').trim();

// The notice is the first thing on the page, says what the page is, and is on screen without scrolling.
async function assertNoticeFirstAndVisible(page) {
  const notice = page.locator('.notice');
  assert.equal(await notice.count(), 1, 'one notice');
  assert.ok(await notice.isVisible(), 'the notice is visible');
  assert.match(await textOf(notice), /local sipgate stand-in for tests — not sipgate/i);
  const first = await page.evaluate(() => {
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walk.nextNode(); node; node = walk.nextNode()) {
      if (node.textContent.trim() && node.parentElement.getClientRects().length) {
        return node.parentElement.closest('.notice') !== null;
      }
    }
    return false;
  });
  assert.ok(first, 'the first visible text on the page is the notice');
  const box = await notice.boundingBox();
  const view = page.viewportSize();
  assert.ok(box && box.y >= 0 && box.y + box.height <= view.height && box.height > 10,
    `the notice is inside the viewport: ${JSON.stringify(box)} in ${JSON.stringify(view)}`);
  const above = await page.locator('h1').first().boundingBox();
  assert.ok(above && box.y < above.y, 'the notice is above the heading');
}

test('sign-in page, wrong-state page and success page, in Chromium', { timeout: 90_000 }, async () => {
  const run = login(['login', '--no-browser', '--profile', 'chromium-pages']);
  const [printed] = await run.until('stderr', /^http:\/\/\S+\/auth\?\S+$/m);
  const authUrl = new URL(printed);
  const redirectUri = authUrl.searchParams.get('redirect_uri');
  assert.match(redirectUri, /^http:\/\/127\.0\.0\.1:[1-9]\d*\/oauth$/, 'the callback listens on a real port');
  const page = await newPage();

  // A callback with a state that is not this sign-in's: the tool goes on waiting, and the page says so.
  const wrong = await page.goto(`${redirectUri}?state=not-this-sign-in&code=stale`);
  assert.equal(wrong.status(), 400);
  await shot(page, 'wrong-state');
  assert.match(await textOf(page.locator('h1')), /still waiting for the sign-in/i);
  const wrongText = await textOf(page.locator('body'));
  assert.match(wrongText, /sipgate-oauth is still waiting for the right sign-in/i);
  assert.doesNotMatch(wrongText, /sign-in failed/i);
  await run.until('stderr', /callback arrived whose state does not match.*still waiting/); // the terminal too
  assert.equal(run.child.exitCode, null, 'login is still waiting');

  // The sign-in page.
  const signIn = await page.goto(authUrl.href);
  assert.equal(signIn.status(), 200);
  await shot(page, 'sign-in');
  await assertNoticeFirstAndVisible(page);
  assert.match(await page.title(), /stand-in/i);
  assert.match(await textOf(page.locator('main')), new RegExp(`application ${authUrl.searchParams.get('client_id')} asks`));
  const items = await page.locator('ul.scopes > li').allInnerTexts();
  assert.deepEqual(items.map((i) => i.split(':').slice(0, -1).join(':').trim()), SCOPES, 'each requested scope, in order');
  for (const scope of SCOPES) {
    assert.ok(meanings.get(scope), `scopes --json knows ${scope}`);
    assert.ok(items.some((i) => i.includes(scope) && i.includes(meanings.get(scope))), `${scope}: ${meanings.get(scope)}`);
  }
  assert.equal(await textOf(page.locator('.after code')), redirectUri, 'the redirect target is named');
  assert.ok(await page.getByRole('button', { name: 'Deny' }).isVisible());
  await page.setViewportSize({ width: 360, height: 640 }); // a phone
  await shot(page, 'sign-in-narrow');
  await assertNoticeFirstAndVisible(page);
  await page.setViewportSize({ width: 1024, height: 700 });

  // Allow: the browser ends at the CLI's callback, which shows the success page.
  await Promise.all([page.waitForURL((u) => u.href.startsWith(`${redirectUri}?`)),
    page.getByRole('button', { name: 'Allow' }).click()]);
  await shot(page, 'success');
  assert.match(await page.title(), /signed in/i);
  const success = await textOf(page.locator('body'));
  assert.equal(success.match(/close this tab/gi)?.length, 1, `one "close this tab": ${success}`);
  assert.match(success, /the profile chromium-pages is signed in/);
  for (const scope of SCOPES) assert.ok(success.includes(scope), `the granted scope ${scope} is named: ${success}`);
  assert.doesNotMatch(success, /fail|error/i);
  assert.equal(await run.exited, 0, `login succeeded:\n${run.text.stderr}`);
  await page.close();
});

test('device approval page shows the user code, in Chromium', { timeout: 90_000 }, async () => {
  const run = login(['login', '--device', '--profile', 'chromium-device']);
  const [, verification] = await run.until('stderr', /^\s*(http:\/\/\S+\/device)\s*$/m);
  const [, userCode] = await run.until('stderr', /enter the code\s+([A-Z]{4}-[A-Z]{4})\s/);
  const page = await newPage();

  // The person types the code on the verification page and submits it.
  await page.goto(verification);
  await shot(page, 'device-form');
  await page.locator('input[name=user_code]').fill(userCode);
  await Promise.all([page.waitForURL(/user_code=/), page.getByRole('button', { name: 'Submit' }).click()]);

  // The approval page: which device (by its code) Allow signs in.
  await shot(page, 'device-approval');
  await assertNoticeFirstAndVisible(page);
  const code = page.locator('.user-code');
  assert.equal(await textOf(code), userCode, 'the user code being approved is shown');
  const box = await code.boundingBox();
  assert.ok(box && box.y + box.height <= page.viewportSize().height, 'the user code is on screen');
  assert.match(await textOf(page.locator('.after')), new RegExp(`signs in the device that shows the code ${userCode}`));
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Allow' }).click()]);
  await shot(page, 'device-done');
  assert.match(await textOf(page.locator('h1')), /device signed in/i);
  assert.equal(await run.exited, 0, `login --device succeeded:\n${run.text.stderr}`);
  await page.close();
});
