// The console end to end in real Chromium (playwright-core driving Debian's /usr/bin/chromium)
// against a running NexusLog. nexuslog/tests/console.rs starts a standalone server and runs this;
// by hand:
//
//   NEXUSLOG_URL=http://127.0.0.1:8000 NEXUSLOG_ADMIN_PASSWORD=… NEXUSLOG_INGEST_KEY=nxl_… \
//   NEXUSLOG_SCREENSHOTS=/tmp/shots node e2e/console.e2e.mjs
//
// Steps: sign in; ingest through the API; find the events in Explore with an AND/OR and range
// query (exact count); drag-zoom the histogram; live tail shows a new event; create an API key in
// Settings (secret once), revoke it; switch to 简体中文 (navigation and a date); a viewer sees no
// editing controls. A screenshot per step. Any console error or page error fails the run, except
// the failed-resource messages of requests the scenario makes fail on purpose.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = (name) => {
  const v = process.env[name];
  if (!v) fail(`environment variable ${name} is not set`);
  return v;
};

function fail(message) {
  console.error(`\nE2E FAILED: ${message}`);
  process.exit(1);
}

const BASE = env('NEXUSLOG_URL').replace(/\/$/, '');
const ADMIN_PASSWORD = env('NEXUSLOG_ADMIN_PASSWORD');
const INGEST_KEY = env('NEXUSLOG_INGEST_KEY');
const SHOTS = env('NEXUSLOG_SCREENSHOTS');
const CHROMIUM = process.env.NEXUSLOG_CHROMIUM || '/usr/bin/chromium';
const PROJECT = 'default';
const ADMIN_EMAIL = 'admin@localhost';
const RUN = `e2e${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const TIMEOUT = 20_000;

mkdirSync(SHOTS, { recursive: true });

// ---------------------------------------------------------------- API helpers (Node's fetch)

async function call(method, path, { token, body, raw, expect } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (raw !== undefined) {
    payload = raw;
    headers['Content-Type'] = 'application/x-ndjson';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(`${BASE}${path}`, { method, headers, body: payload });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  const want = expect ?? [200, 201, 204];
  if (!want.includes(res.status)) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`);
  return { status: res.status, json };
}

async function ingest(events, key = INGEST_KEY) {
  const { json } = await call('POST', '/v1/logs/bulk', { token: key, raw: events.map((e) => JSON.stringify(e)).join('\n') });
  if (json.accepted !== events.length) throw new Error(`ingest accepted ${json.accepted} of ${events.length}: ${JSON.stringify(json)}`);
}

async function until(what, fn, timeout = TIMEOUT) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// ---------------------------------------------------------------- browser, errors, screenshots

const problems = [];
/** Requests the scenario makes fail on purpose: [method, URL path regexp, status]. */
const expectedFailures = [];
const failedResponses = new Map(); // URL → status, of responses ≥ 400 seen by the pages

function expectFailure(method, pathRe, status) {
  expectedFailures.push({ method, pathRe, status });
}

function isExpected(url, status, method) {
  let path;
  try {
    path = new URL(url).pathname;
  } catch {
    return false;
  }
  return expectedFailures.some((f) => (!method || f.method === method) && f.pathRe.test(path) && (!status || f.status === status));
}

function watch(page, who) {
  page.on('pageerror', (e) => problems.push(`[${who}] page error: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) failedResponses.set(r.url(), { status: r.status(), method: r.request().method() });
  });
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    const url = msg.location()?.url ?? '';
    // Chromium logs every failed fetch as "Failed to load resource: the server responded with a
    // status of 403 (Forbidden)", located at the request's URL.
    const m = /^Failed to load resource: the server responded with a status of (\d+)/.exec(text);
    if (m) {
      const status = Number(m[1]);
      const seen = failedResponses.get(url);
      if (isExpected(url, status, seen?.method)) return;
    }
    problems.push(`[${who}] console error: ${text}${url ? ` (at ${url})` : ''}`);
  });
}

function checkProblems(step) {
  if (problems.length) fail(`browser errors during "${step}":\n  ${problems.join('\n  ')}`);
}

const slug = (name) => name.replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-|-$/g, '').toLowerCase();

let shotNo = 0;
async function shot(page, name) {
  shotNo += 1;
  const file = join(SHOTS, `${String(shotNo).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
}

const started = Date.now();
const timings = [];
async function step(name, page, fn) {
  const t0 = Date.now();
  process.stdout.write(`• ${name} … `);
  try {
    await fn();
  } catch (e) {
    if (page) await shot(page, `FAILED-${slug(name)}`).catch(() => undefined);
    fail(`step "${name}": ${e instanceof Error ? e.stack || e.message : e}`);
  }
  checkProblems(name);
  if (page) await shot(page, slug(name));
  const ms = Date.now() - t0;
  timings.push([name, ms]);
  console.log(`ok (${ms} ms)`);
}

const browser = await chromium
  .launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'], headless: true })
  .catch((e) => fail(`cannot start Chromium at ${CHROMIUM} (run scripts/browser-deps.sh): ${e.message}`));

process.on('unhandledRejection', (e) => fail(`unhandled: ${e instanceof Error ? e.stack : e}`));

async function newPage(who) {
  const context = await browser.newContext({ locale: 'en-US', timezoneId: 'UTC', viewport: { width: 1400, height: 900 } });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  watch(page, who);
  return page;
}

async function signIn(page, email, password) {
  await page.goto(`${BASE}/login`);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/explore/);
  await page.getByTestId('query-editor').waitFor();
}

async function setQuery(page, text) {
  const content = page.getByTestId('query-editor').locator('.cm-content');
  await content.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
  // The completion popup may be open: Escape closes it, then Enter runs the query.
  await page.keyboard.press('Escape');
  await page.getByTestId('run-query').click();
}

async function hitCount(page) {
  return (await page.getByTestId('hit-count').innerText()).trim();
}

// ---------------------------------------------------------------- the scenario

try {
  const adminToken = (await call('POST', '/v1/auth/login', { body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } })).json.access_token;
  const admin = await newPage('admin');

  await step('sign in', admin, async () => {
    await signIn(admin, ADMIN_EMAIL, ADMIN_PASSWORD);
  });

  // 30 events over the last 10 minutes: three services, latencies 0…1450 ms, three levels.
  const services = ['checkout', 'payments', 'search'];
  const levels = ['info', 'warn', 'error'];
  const now = Date.now();
  const events = Array.from({ length: 30 }, (_, i) => ({
    timestamp: new Date(now - (30 - i) * 20_000).toISOString(),
    level: levels[Math.floor(i / 3) % 3],
    service: services[i % 3],
    host: `web-${i % 2}`,
    message: `${RUN} request ${i} handled${i % 5 === 0 ? ' slowly' : ''}`,
    latency_ms: i * 50,
  }));
  const expected = events.filter((e) => (e.service === 'checkout' || e.service === 'payments') && e.latency_ms > 500).length;

  await step('ingest through the API', null, async () => {
    await ingest(events);
    // Searchable: the API finds all of them (the processors and the store run asynchronously).
    const q = encodeURIComponent(RUN);
    await until('the 30 events to be searchable', async () => {
      const { json } = await call('GET', `/v1/projects/${PROJECT}/search?q=${q}&from=now-1h&to=now%2B5m&limit=100`, { token: adminToken });
      return json.total === 30;
    });
  });

  const query = `(service:checkout OR service:payments) AND latency_ms:>500 ${RUN}`;
  await step('explore: boolean and range query', admin, async () => {
    await setQuery(admin, query);
    await until(`"${expected} events" in the hit count`, async () => (await hitCount(admin)) === `${expected} events`);
    const rows = admin.getByTestId('results-scroller').locator('[role=row]');
    await until(`${expected} rows in the table`, async () => (await rows.count()) === expected);
    const url = new URL(admin.url());
    if (url.searchParams.get('q') !== query) throw new Error(`the URL carries the query: ${url.search}`);
    // Each row is one of the services asked for.
    const svc = await admin.getByTestId('results-scroller').locator('.nl-c-service').allInnerTexts();
    if (svc.some((s) => s !== 'checkout' && s !== 'payments')) throw new Error(`unexpected services in the rows: ${svc.join(', ')}`);
  });

  await step('explore: drag-zoom the histogram', admin, async () => {
    // Wait for the histogram's data, then drag across the middle of its plot area.
    await until('histogram drawn', async () => (await admin.locator('.nl-legend span').count()) > 0);
    const before = new URL(admin.url()).searchParams;
    const box = await admin.getByTestId('histogram').boundingBox();
    if (!box) throw new Error('no histogram on the page');
    const left = box.x + 48;
    const width = box.width - 48 - 16;
    const y = box.y + box.height / 2 + 10;
    await admin.mouse.move(left + width * 0.2, y);
    await admin.mouse.down();
    await admin.mouse.move(left + width * 0.5, y, { steps: 8 });
    await admin.mouse.move(left + width * 0.9, y, { steps: 8 });
    await admin.mouse.up();
    await admin.waitForURL((u) => u.searchParams.get('from') !== before.get('from'));
    const after = new URL(admin.url()).searchParams;
    const from = after.get('from');
    const to = after.get('to');
    if (!/^\d{4}-\d\d-\d\dT/.test(from ?? '') || !/^\d{4}-\d\d-\d\dT/.test(to ?? '')) throw new Error(`zoom sets an absolute range, got from=${from} to=${to}`);
    if (!(Date.parse(from) < Date.parse(to))) throw new Error(`zoomed range is empty: ${from} … ${to}`);
    if (Date.parse(to) - Date.parse(from) > 14 * 60_000) throw new Error(`zoom narrows the range (15 min before): ${from} … ${to}`);
    if (after.get('q') !== query) throw new Error('the query stays when zooming');
    // The count follows: exactly the matching events inside the new range.
    const inside = events.filter(
      (e) => (e.service === 'checkout' || e.service === 'payments') && e.latency_ms > 500 && Date.parse(e.timestamp) >= Date.parse(from) && Date.parse(e.timestamp) < Date.parse(to),
    ).length;
    if (inside === expected) throw new Error(`the drag should leave some events out (${from} … ${to})`);
    const want = inside === 1 ? '1 event' : `${inside} events`;
    await until(`"${want}" after zooming`, async () => (await hitCount(admin)) === want);
    await until(`${inside} rows after zooming`, async () => (await admin.getByTestId('results-scroller').locator('[role=row]').count()) === inside);
  });

  await step('live tail shows a new event', admin, async () => {
    await admin.getByRole('menuitem', { name: 'Live tail' }).click();
    await admin.waitForURL(/\/tail/);
    const content = admin.getByTestId('query-editor').locator('.cm-content');
    await content.click();
    await admin.keyboard.insertText(`tail${RUN}`);
    await admin.keyboard.press('Escape');
    await admin.getByTestId('tail-start').click();
    await until('the tail to be live', async () => (await admin.getByTestId('tail-status').innerText()) === 'Live');
    // The stream starts at its end: give the subscription a moment, then send, and send again
    // until it shows (a first event could land just before the subscription is in place).
    const fresh = `tail${RUN} fresh event from the e2e test`;
    await admin.waitForTimeout(1000);
    let sent = 0;
    await until('the new event in the live tail', async () => {
      if (sent === 0 || sent % 20 === 0) await ingest([{ level: 'warn', service: 'checkout', message: fresh }]);
      sent += 1;
      return (await admin.getByTestId('tail-scroller').getByText(fresh).count()) > 0;
    }, 30_000);
    await admin.getByTestId('tail-stop').click();
  });

  // ---- Settings: API keys
  let keyName = `e2e key ${RUN}`;
  await step('settings: create an API key, secret shown once', admin, async () => {
    await admin.getByRole('menuitem', { name: 'Settings' }).click();
    await admin.waitForURL(/\/settings/);
    await admin.getByRole('tab', { name: 'API keys' }).click();
    await admin.getByRole('button', { name: 'Create key' }).click();
    const dialog = admin.getByRole('dialog');
    await dialog.getByLabel('Name').fill(keyName);
    await dialog.getByRole('button', { name: 'Create' }).click();
    const secret = await dialog.getByTestId('key-secret').inputValue();
    if (!/^\S{20,}$/.test(secret.trim())) throw new Error(`the secret is shown: got ${JSON.stringify(secret)}`);
    await dialog.getByRole('button', { name: /Copy/ }).waitFor();
    // The secret works: ingest with it.
    await ingest([{ message: `${RUN} via the new key` }], secret.trim());
    await shot(admin, 'settings-key-secret');
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.waitFor({ state: 'hidden' });
    if ((await admin.content()).includes(secret.trim())) throw new Error('the secret is still on the page after closing');
    await admin.getByRole('row', { name: new RegExp(keyName) }).waitFor();
    // Keep it for the revocation check.
    admin.secret = secret.trim();
  });

  await step('settings: revoke the API key', admin, async () => {
    const row = admin.getByRole('row', { name: new RegExp(keyName) });
    await row.getByRole('button', { name: 'Revoke' }).click();
    await admin.getByRole('button', { name: 'Revoke key' }).click();
    await row.getByText('Revoked').waitFor();
    expectFailure('POST', /^\/v1\/logs\/bulk$/, 401);
    await until('the revoked key to be refused', async () => {
      const res = await fetch(`${BASE}/v1/logs/bulk`, { method: 'POST', headers: { Authorization: `Bearer ${admin.secret}` }, body: '{"message":"x"}' });
      return res.status === 401;
    });
  });

  await step('settings: audit log, invitation and a role change', admin, async () => {
    await admin.getByRole('tab', { name: 'Audit log' }).click();
    await admin.getByText('Revoked an API key').first().waitFor();
    await admin.getByText('Created an API key').first().waitFor();
    await admin.getByRole('tab', { name: 'Members' }).click();
    await admin.getByRole('button', { name: 'Invite' }).click();
    const dialog = admin.getByRole('dialog');
    const invitee = `invitee-${RUN}@example.com`;
    await dialog.getByLabel('E-mail').fill(invitee);
    await dialog.getByRole('button', { name: 'Create invitation' }).click();
    const token = await dialog.getByTestId('invitation-token').inputValue();
    if (token.length < 20) throw new Error(`the invitation token is shown: ${JSON.stringify(token)}`);
    await call('POST', '/v1/invitations/accept', { body: { token, password: `invitee password ${RUN}`, name: 'Invitee' } });
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await admin.getByRole('button', { name: 'Refresh' }).click();
    const row = admin.getByRole('row', { name: new RegExp(invitee) });
    await row.waitFor();
    await row.locator('.ant-select').click();
    await admin.locator('.ant-select-dropdown:visible').getByText('Editor', { exact: true }).click();
    await until('the role change to reach the API', async () => {
      const { json } = await call('GET', `/v1/projects/${PROJECT}/members`, { token: adminToken });
      return json.members.some((m) => m.email === invitee && m.role === 'editor');
    });
  });

  await step('简体中文: navigation and dates translated', admin, async () => {
    await admin.getByRole('radio', { name: '中文' }).click({ force: true }).catch(() => admin.getByText('中文', { exact: true }).click());
    await admin.getByRole('menuitem', { name: '日志查询' }).waitFor();
    await admin.getByRole('menuitem', { name: '设置' }).waitFor();
    await admin.getByRole('tab', { name: 'API 密钥' }).click();
    // The key's creation date in Chinese: 2025年5月1日 …
    const row = admin.getByRole('row', { name: new RegExp(keyName) });
    const text = await row.innerText();
    if (!/\d{4}年\d{1,2}月\d{1,2}日/.test(text)) throw new Error(`a date formatted in Chinese in the key's row: ${JSON.stringify(text)}`);
    const lang = await admin.evaluate(() => document.documentElement.lang);
    if (lang !== 'zh-CN') throw new Error(`<html lang> is ${lang}`);
    await shot(admin, 'zh-CN-settings');
    // And Explore's table: year first (2025/05/01 12:00:00.000).
    await admin.getByRole('menuitem', { name: '日志查询' }).click();
    await admin.waitForURL(/\/explore/);
    const times = admin.getByTestId('results-scroller').locator('.nl-c-time');
    await until('rows in Explore', async () => (await times.count()) > 0);
    const first = await times.first().innerText();
    if (!/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d/.test(first)) throw new Error(`a Chinese date in the results: ${first}`);
    await shot(admin, 'zh-CN-explore');
    // Back to English for the rest (remembered per browser).
    await admin.getByText('EN', { exact: true }).click();
    await admin.getByRole('menuitem', { name: 'Explore' }).waitFor();
  });

  // ---- A viewer: no editing controls.
  const viewerEmail = `viewer-${RUN}@example.com`;
  const viewerPassword = `viewer password ${RUN}`;
  await step('viewer sees no editing controls', null, async () => {
    const { json } = await call('POST', '/v1/users', { token: adminToken, body: { email: viewerEmail, name: 'E2E Viewer', password: viewerPassword } });
    await call('PUT', `/v1/projects/${PROJECT}/members/${json.user.id}`, { token: adminToken, body: { role: 'viewer' } });
  });
  const viewer = await newPage('viewer');
  await step('viewer: explore and settings read-only', viewer, async () => {
    await signIn(viewer, viewerEmail, viewerPassword);
    await setQuery(viewer, query);
    await until(`"${expected} events" for the viewer`, async () => (await hitCount(viewer)) === `${expected} events`);
    await viewer.getByRole('menuitem', { name: 'Settings' }).click();
    await viewer.waitForURL(/\/settings/);
    await viewer.getByRole('tab', { name: 'Members' }).waitFor();
    await viewer.getByRole('tab', { name: 'Your sessions' }).waitFor();
    for (const label of ['Create key', 'Invite', 'Remove']) {
      if ((await viewer.getByRole('button', { name: label }).count()) > 0) throw new Error(`a viewer sees the "${label}" button`);
    }
    if ((await viewer.getByRole('tab', { name: 'API keys' }).count()) > 0) {
      await viewer.getByRole('tab', { name: 'API keys' }).click();
      if ((await viewer.getByRole('button', { name: 'Create key' }).count()) > 0) throw new Error('a viewer sees "Create key"');
    }
    // Role selects are read-only text for a viewer.
    await viewer.getByRole('tab', { name: 'Members' }).click();
    await viewer.getByText(viewerEmail).waitFor();
    if ((await viewer.locator('.ant-select').filter({ hasText: /Viewer|Editor|Admin|Owner/ }).count()) > 0) throw new Error('a viewer sees a role select');
  });

  await browser.close();
  const total = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`\nE2E PASSED in ${total} s (${timings.length} steps); screenshots in ${SHOTS}`);
  process.exit(0);
} catch (e) {
  await browser.close().catch(() => undefined);
  fail(e instanceof Error ? e.stack || e.message : String(e));
}
