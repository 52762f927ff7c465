#!/usr/bin/env node
// A scripted "browser" for the peer tests: used as $BROWSER by sipgate-oauth.
//
// Usage: node browser-login.js [--cancel] AUTHORIZATION_URL
//        node browser-login.js --device [--cancel] VERIFICATION_URI_COMPLETE
//
// It does what a person does in a browser against oidc-provider's development pages, with
// plain HTTP requests and a cookie jar: opens the authorization URL, fills in the sign-in
// form (any login and password work there), submits the consent form, follows redirects
// until one points at the redirect_uri named in the authorization URL (the CLI's loopback
// callback), GETs that callback and exits 0 if it answered 200 with a page.
// Exit 1 (with a reason on stderr) otherwise; an error redirect (e.g. ?error=access_denied)
// is still delivered to the callback, reported, and exits 1.
// With --cancel it follows the page's Cancel link instead of signing in (the person says no):
// the server redirects to the callback with error=access_denied, and the script exits 0 once
// it has delivered that redirect to the callback.
// With --device it is the person on the other device of a device sign-in (RFC 8628): it opens the
// verification URI with the code in it, confirms the code, signs in and consents, and exits 0 on the
// success page. With --device --cancel it aborts at the code confirmation instead and exits 0 once
// the server says the sign-in was interrupted.
//
// It never prints query strings, cookies or form values: codes, states and secrets stay out of logs.
// PEER_LOGIN (default "peer-user") sets the login typed into the sign-in form.

const MAX_STEPS = 20;
const say = (...args) => console.error('[browser-login]', ...args);
const fail = (msg) => { say(msg); process.exit(1); };

const argv = process.argv.slice(2);
const cancel = argv.includes('--cancel');
const device = argv.includes('--device');
const start = argv.find((a) => !a.startsWith('--'));
if (!start) fail('usage: browser-login.js [--device] [--cancel] URL');
let authUrl;
try { authUrl = new URL(start); } catch { fail('not a URL'); }
// sipgate-oauth hands a browser a one-time loopback start address that redirects to the authorization URL
// (so that the URL with its state does not show in the browser's command line): follow it once.
if (!device && !authUrl.searchParams.get('redirect_uri')) {
  const response = await fetch(authUrl, { redirect: 'manual' });
  const location = response.headers.get('location');
  if (response.status !== 302 || !location) fail(`the start address answered ${response.status}, not a redirect`);
  authUrl = new URL(location, authUrl);
}
const redirectUri = authUrl.searchParams.get('redirect_uri');
if (!redirectUri && !device) fail('the authorization URL has no redirect_uri');
const callbackBase = redirectUri ? (() => { const u = new URL(redirectUri); return `${u.origin}${u.pathname}`; })() : undefined;
const isCallback = (u) => callbackBase !== undefined && `${u.origin}${u.pathname}` === callbackBase;

// Cookie jar: like a browser, keyed by host name (cookies do not isolate ports).
const jar = new Map(); // hostname -> Map(name -> value)
function remember(url, response) {
  for (const line of response.headers.getSetCookie()) {
    const [pair, ...attrs] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq < 1) continue;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const cookies = jar.get(url.hostname) ?? new Map();
    const expired = attrs.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a))
      || attrs.some((a) => /^\s*expires\s*=/i.test(a) && Date.parse(a.split('=')[1]) < Date.now());
    if (expired || value === '') cookies.delete(name); else cookies.set(name, value);
    jar.set(url.hostname, cookies);
  }
}
function cookieHeader(url) {
  const cookies = jar.get(url.hostname);
  return cookies && cookies.size ? [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
}

async function request(url, { method = 'GET', form } = {}) {
  const headers = { accept: 'text/html,*/*', 'user-agent': 'sipgate-oauth-peer-browser/1' };
  const cookie = cookieHeader(url);
  if (cookie) headers.cookie = cookie;
  let body;
  if (form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(form).toString();
  }
  const response = await fetch(url, { method, headers, body, redirect: 'manual' });
  remember(url, response);
  say(method, url.pathname, '->', response.status);
  return response;
}

const decode = (s) => s.replace(/&quot;/g, '"').replace(/&#39;|&#x27;/g, "'").replace(/&lt;/g, '<')
  .replace(/&gt;/g, '>').replace(/&#x2F;|&#47;/g, '/').replace(/&amp;/g, '&');
const attr = (tag, name) => {
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  return m ? decode(m[1] ?? m[2] ?? m[3]) : undefined;
};

// The first form on the page, with its fields filled in the way a person would.
function fillForm(html, pageUrl) {
  const formMatch = /<form\b[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!formMatch) return undefined;
  const formTag = /<form\b[^>]*>/i.exec(formMatch[0])[0];
  const action = new URL(attr(formTag, 'action') ?? pageUrl.href, pageUrl);
  const method = (attr(formTag, 'method') ?? 'GET').toUpperCase();
  const fields = {};
  for (const [input] of formMatch[1].matchAll(/<input\b[^>]*>/gi)) {
    const name = attr(input, 'name');
    if (!name) continue;
    const type = (attr(input, 'type') ?? 'text').toLowerCase();
    let value = attr(input, 'value') ?? '';
    if (type === 'password') value = 'any-password';
    else if (!value && name === 'login') value = process.env.PEER_LOGIN || 'peer-user';
    fields[name] = value;
  }
  return { action, method, fields };
}

let url = authUrl;
let response = await request(url);
for (let step = 0; step < MAX_STEPS; step += 1) {
  if (response.status >= 300 && response.status < 400) {
    const location = response.headers.get('location');
    if (!location) fail(`redirect ${response.status} without Location`);
    url = new URL(location, url);
    if (isCallback(url)) {
      const error = url.searchParams.get('error');
      if (error) say('the authorization server answered error:', error);
      const callback = await request(url);
      const page = await callback.text();
      if (error) process.exit(cancel && error === 'access_denied' ? 0 : 1);
      if (cancel) fail('cancelled, yet the server redirected without an error');
      if (callback.status !== 200) fail(`the callback answered ${callback.status}`);
      say('callback page:', page.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 160));
      process.exit(0);
    }
    response = await request(url);
    continue;
  }
  const html = await response.text();
  if (device && cancel && /interrupted/i.test(html)) {
    say('the server says the device sign-in was interrupted');
    process.exit(0);
  }
  if (response.status !== 200) {
    fail(`${url.pathname} answered ${response.status}: ${html.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300)}`);
  }
  if (cancel && !device) {
    const link = [...html.matchAll(/<a\b[^>]*>([\s\S]*?)<\/a>/gi)].find(([, text]) => /cancel|deny|abort/i.test(text));
    if (!link) fail(`${url.pathname}: no Cancel link`);
    say('following the Cancel link');
    url = new URL(attr(link[0], 'href'), url);
    response = await request(url);
    continue;
  }
  const form = fillForm(html, url);
  if (!form && device && /Sign-in Success/i.test(html)) {
    say('the device sign-in succeeded');
    process.exit(0);
  }
  if (!form) fail(`${url.pathname}: a page without a form and no redirect`);
  if (device && cancel && 'confirm' in form.fields) {
    delete form.fields.confirm;
    form.fields.abort = 'yes';
    say('aborting at the code confirmation');
  }
  say('submitting form with fields:', Object.keys(form.fields).join(', '));
  if (form.method === 'POST') {
    url = form.action;
    response = await request(url, { method: 'POST', form: form.fields });
  } else {
    url = new URL(form.action);
    for (const [k, v] of Object.entries(form.fields)) url.searchParams.set(k, v);
    response = await request(url);
  }
}
fail(`no callback after ${MAX_STEPS} steps`);
