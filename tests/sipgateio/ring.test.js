// The stand-in rings a real sipgate.io app built on sipgate's official Node library (`sipgateio`): its
// webhook server answers with the library's own XML builders (gather, play, redirect, reject,
// voicemail, hang up). Checked: the pushes the library saw (parsed by the library), the timeline
// `mock call --json` printed, and every push's X-Sipgate-Signature, verified by openssl against the
// stand-in's published TEST key (the library's own check is hard-wired to sipgate's key and to sipgate's
// source addresses, so it is switched off with skipSignatureVerification).
// Run by .ci/sipgateio; needs the binary (SIPGATE_OAUTH_BIN, default ../../target/debug/sipgate-oauth).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const require = createRequire(import.meta.url);
const { createWebhookModule, WebhookResponse } = require('sipgateio');
const run = promisify(execFile);
const BIN = process.env.SIPGATE_OAUTH_BIN
  || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../target/debug/sipgate-oauth');

let standIn; // the child process
let base; // http://127.0.0.1:PORT of the stand-in
let webhooks; // the library's webhook server
const seen = []; // events as the library handed them to our handlers
const raw = []; // every push as it arrived: headers and raw body
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sipgateio-'));

const CALLER = '492111234567';
const GATHER = '4915790000001';
const PLAY = '4915790000002';
const REDIRECT = '4915790000003';
const REJECT = '4915790000004';
const VOICEMAIL = '4915790000005';
const FORWARDED_TO = '4915799912345';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

before(async () => {
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}/`;
  webhooks = await createWebhookModule().createServer({
    port,
    hostname: '127.0.0.1',
    serverAddress: appUrl,
    skipSignatureVerification: true,
  });
  webhooks.getHttpServer().on('request', (req) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => raw.push({ headers: req.headers, url: req.url, body }));
  });
  standIn = spawn(BIN, ['mock', '--port', '0', '--quiet', '--webhook-url', appUrl], { stdio: ['ignore', 'pipe', 'inherit'] });
  base = await new Promise((resolve, reject) => {
    standIn.on('exit', (code) => reject(new Error(`the stand-in exited (${code})`)));
    readline.createInterface({ input: standIn.stdout }).on('line', (line) => {
      const match = /^AUTH_URL=(http:\/\/127\.0\.0\.1:\d+)\//.exec(line);
      if (match) resolve(match[1]);
    });
  });
  const silence = `${base}/_stand-in/sounds/silence.wav`;

  webhooks.onNewCall((call) => {
    seen.push(call);
    switch (call.to) {
      case `+${GATHER}`: return WebhookResponse.gatherDTMF({ maxDigits: 3, timeout: 5000, announcement: silence });
      case `+${PLAY}`: return WebhookResponse.playAudio({ announcement: silence });
      case `+${REDIRECT}`: return WebhookResponse.redirectCall({ numbers: [FORWARDED_TO], anonymous: false, callerId: '4921100000000' });
      case `+${REJECT}`: return WebhookResponse.rejectCall({ reason: 'busy' });
      case `+${VOICEMAIL}`: return WebhookResponse.sendToVoicemail();
      default: return undefined;
    }
  });
  webhooks.onData((data) => {
    seen.push(data);
    return data.dtmf === '123' ? WebhookResponse.hangUpCall() : undefined;
  });
  webhooks.onAnswer((answer) => { seen.push(answer); });
  webhooks.onHangUp((hangup) => { seen.push(hangup); });
});

after(() => {
  webhooks?.stop();
  standIn?.kill();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Rings the app: `mock call --json`; the document and the events the library saw meanwhile. */
async function ring(to, ...extra) {
  const before = seen.length;
  const args = ['mock', 'call', '--base', base, '--from', CALLER, '--to', to, '--answer-after', '0', '--hangup-after', '0', '--json', ...extra];
  const { stdout } = await run(BIN, args, { env: { ...process.env, NO_PROXY: '127.0.0.1' } });
  const document = JSON.parse(stdout);
  const timeline = document.events.map((e) => e.text).join('\n');
  return { document, timeline, events: seen.slice(before) };
}

test('an incoming call: the app answers with a Gather, gets the digits and hangs up', async () => {
  const { document, timeline, events } = await ring(GATHER, '--press', '123');
  assert.equal(document.ok, true, timeline);
  assert.deepEqual(events.map((e) => e.event), ['newCall', 'dtmf', 'hangup'], JSON.stringify(events));
  const [call, dtmf, hangup] = events;
  assert.equal(call.direction, 'in');
  assert.equal(call.from, `+${CALLER}`);
  assert.deepEqual(call.users, ['Alice Doe']);
  assert.deepEqual(call.userIds, ['w0']);
  assert.deepEqual(call.fullUserIds, ['1234567w0']);
  assert.equal(call.originalCallId, call.callId);
  assert.equal(dtmf.dtmf, '123');
  assert.equal(dtmf.callId, call.callId);
  assert.equal(hangup.cause, 'normalClearing');
  assert.match(timeline, /Gather maxDigits 3, timeout 5000 ms, Play http:\/\/127\.0\.0\.1:\d+\/_stand-in\/sounds\/silence\.wav/);
  assert.match(timeline, /WAV PCM 16 bit mono 8 kHz, 1\.0 s/);
  assert.match(timeline, /caller presses 123/);
  assert.match(timeline, /; Hangup$/m);
});

test('Play, then normal routing: answer and hangup pushes', async () => {
  const { document, timeline, events } = await ring(PLAY);
  assert.equal(document.ok, true, timeline);
  assert.deepEqual(events.map((e) => e.event), ['newCall', 'answer', 'hangup']);
  assert.equal(events[1].answeringNumber, `+${PLAY}`);
  assert.equal(events[1].user, 'Alice Doe');
  assert.equal(events[2].cause, 'normalClearing');
  assert.doesNotMatch(timeline, /WARNING/);
});

test('redirectCall forwards: a new leg with the first leg as originalCallId', async () => {
  const { document, timeline, events } = await ring(REDIRECT);
  assert.equal(document.ok, true, timeline);
  assert.deepEqual(events.map((e) => e.event), ['newCall', 'hangup', 'newCall', 'answer', 'hangup']);
  const [first, forwarded, second] = events;
  assert.equal(forwarded.cause, 'forwarded');
  assert.notEqual(second.callId, first.callId);
  assert.equal(second.originalCallId, first.callId);
  assert.equal(second.diversion, `+${REDIRECT}`);
  assert.equal(second.to, `+${FORWARDED_TO}`);
  assert.equal(second.from, '+4921100000000');
  assert.equal(document.legs.length, 2);
});

test('rejectCall busy and sendToVoicemail end with their causes', async () => {
  const rejected = await ring(REJECT);
  assert.deepEqual(rejected.events.map((e) => e.event), ['newCall', 'hangup']);
  assert.equal(rejected.events[1].cause, 'busy');
  const voicemail = await ring(VOICEMAIL);
  assert.deepEqual(voicemail.events.map((e) => e.event), ['newCall', 'answer', 'hangup']);
  assert.match(voicemail.timeline, /to the voicemail/);
});

test('every push is form-encoded as sipgate sends it and signed: openssl verifies it with the served key', async () => {
  assert.ok(raw.length >= 10, `pushes seen: ${raw.length}`);
  const pem = await (await fetch(`${base}/_stand-in/webhook-public-key`)).text();
  const key = path.join(tmp, 'public.pem');
  fs.writeFileSync(key, pem);
  const verify = (body, signature) => {
    fs.writeFileSync(path.join(tmp, 'body'), body);
    fs.writeFileSync(path.join(tmp, 'signature'), Buffer.from(signature, 'base64'));
    return execFileSync('openssl', ['dgst', '-sha256', '-verify', key, '-signature', path.join(tmp, 'signature'), path.join(tmp, 'body')], { stdio: 'pipe' }).toString();
  };
  for (const push of raw) {
    assert.equal(push.headers['content-type'], 'application/x-www-form-urlencoded; charset=UTF-8');
    assert.equal(push.headers['user-agent'], 'sipgate.io');
    assert.match(verify(push.body, push.headers['x-sipgate-signature']), /Verified OK/);
  }
  const newCall = raw.find((push) => push.body.startsWith('event=newCall'));
  assert.match(newCall.body, /&user%5B%5D=Alice\+Doe&userId%5B%5D=w0&fullUserId%5B%5D=1234567w0&/);
  const forged = newCall.body.replace(CALLER, '492111234568');
  assert.throws(() => verify(forged, newCall.headers['x-sipgate-signature']));
});
