// Headless Chromium as the browser tests start it (Debian's /usr/bin/chromium, or PEER_CHROMIUM), through
// playwright-core: no sandbox (CI runs as root), nothing of its own on the network, and pages that reach
// loopback addresses only (any other request is aborted, and no other host name resolves).
import { chromium } from 'playwright-core';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Starts the browser. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.PEER_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    chromiumSandbox: false, // --no-sandbox: we run as root
    // playwright-core adds --headless and a fresh --user-data-dir of its own.
    args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1'],
    timeout: 60_000,
  });
}

/** A new page of `browser` whose requests go to loopback addresses only. */
export async function loopbackPage(browser, options = {}) {
  const page = await browser.newPage(options);
  page.setDefaultTimeout(30_000);
  await page.route('**/*', (route) => (LOOPBACK.has(new URL(route.request().url()).hostname)
    ? route.continue() : route.abort('blockedbyclient')));
  return page;
}
