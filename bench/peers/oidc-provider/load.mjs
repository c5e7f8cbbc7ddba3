// The load driver for the oidc-provider peer: complete sign-ins, N in flight, each a
// fresh browser (its own cookie jar, no SSO session to reuse), redirects followed by
// hand so that every hop is a request of its own:
//
//   GET /auth (code, PKCE S256, state, nonce, scope openid email) → GET the login form
//   → POST it → GET /auth/:uid (resume) → GET the consent form → POST it
//   → GET /auth/:uid → the code at the redirect_uri → POST /token → an id_token.
//
//   node load.mjs --base URL [--duration S] [--concurrency N] [--warmup S] [--marks]
//
// Counts, as passway-load does, the sign-ins that began after the warm-up and ended
// within the measured window; prints one JSON object at the end. With --marks it also
// prints {"window":"start"} and {"window":"end"} lines when the window opens and
// closes, so that `cargo xtask bench` reads the server's CPU time (/proc/PID/stat) at
// those moments. Nothing here measures CPU.
//
// Node's fetch keeps connections alive (its global dispatcher's default).

import { createHash, randomBytes } from 'node:crypto';

const LOGIN = 'bench@example.com';
const PASSWORD = 'bench: correct horse battery staple';

function parseArgs(argv) {
  const args = { base: '', duration: 20, concurrency: 32, warmup: 3, clientId: 'bench', marks: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--marks') {
      args.marks = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    switch (flag) {
      case '--base': args.base = value.replace(/\/+$/, ''); break;
      case '--duration': args.duration = Number(value); break;
      case '--concurrency': args.concurrency = Number.parseInt(value, 10); break;
      case '--warmup': args.warmup = Number(value); break;
      case '--client-id': args.clientId = value; break;
      default: throw new Error(`unknown flag ${flag}`);
    }
  }
  if (!args.base) {
    throw new Error('usage: node load.mjs --base http://127.0.0.1:PORT [--duration S] [--concurrency N] [--warmup S] [--marks]');
  }
  return args;
}

const b64url = (bytes) => Buffer.from(bytes).toString('base64url');

/** A browser's cookies for one sign-in: name → value and path (one host only). */
class CookieJar {
  #cookies = new Map();

  take(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = '/';
      let gone = value === '';
      for (const attribute of attributes) {
        const [key, v = ''] = attribute.split('=');
        const k = key.trim().toLowerCase();
        if (k === 'path') path = v.trim() || '/';
        else if (k === 'expires' && Date.parse(v) <= Date.now()) gone = true;
        else if (k === 'max-age' && Number(v) <= 0) gone = true;
      }
      const key = `${name};${path}`;
      if (gone) this.#cookies.delete(key);
      else this.#cookies.set(key, { name, value, path });
    }
  }

  header(pathname) {
    const sent = [];
    for (const { name, value, path } of this.#cookies.values()) {
      const matches = pathname === path || pathname.startsWith(path.endsWith('/') ? path : `${path}/`);
      if (matches) sent.push(`${name}=${value}`);
    }
    return sent.join('; ');
  }
}

/** One browser's requests: cookies kept, redirects returned rather than followed. */
class Browser {
  constructor(base) {
    this.base = base;
    this.jar = new CookieJar();
  }

  async request(url, init = {}) {
    const target = new URL(url, this.base);
    const headers = { ...init.headers };
    const cookie = this.jar.header(target.pathname);
    if (cookie) headers.cookie = cookie;
    const response = await fetch(target, { ...init, headers, redirect: 'manual' });
    this.jar.take(response);
    const body = await response.text();
    return { status: response.status, location: response.headers.get('location'), body };
  }

  /** A GET that must redirect: where to. */
  async redirected(url, step) {
    const r = await this.request(url);
    return expectRedirect(r, step);
  }

  /** A GET of a page with one form, then its POST: where the POST redirects. */
  async submitForm(url, fields, step) {
    const page = await this.request(url);
    if (page.status !== 200) throw new Error(`${step}: form page answered ${page.status}: ${page.body.slice(0, 200)}`);
    const action = /<form[^>]*action="([^"]+)"/.exec(page.body)?.[1];
    if (!action) throw new Error(`${step}: no form in ${page.body.slice(0, 200)}`);
    const r = await this.request(new URL(action, new URL(url, this.base)), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    return expectRedirect(r, step);
  }
}

function expectRedirect(r, step) {
  if (r.status < 300 || r.status > 399 || !r.location) {
    throw new Error(`${step}: expected a redirect, got ${r.status}: ${r.body.slice(0, 200)}`);
  }
  return r.location;
}

/** One complete sign-in in a fresh browser; throws naming the step that failed. */
async function signIn(base, clientId) {
  const browser = new Browser(base);
  const redirectUri = `${base}/cb`;
  const verifier = b64url(randomBytes(32));
  const state = b64url(randomBytes(16));
  const nonce = b64url(randomBytes(16));
  const authorize = new URL('/auth', base);
  authorize.search = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'openid email',
    state,
    nonce,
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
  }).toString();

  let at = await browser.redirected(authorize, 'authorize');
  at = await browser.submitForm(at, { login: LOGIN, password: PASSWORD }, 'login');
  at = await browser.redirected(at, 'resume after login');
  at = await browser.submitForm(at, {}, 'consent');
  at = await browser.redirected(at, 'resume after consent');

  const back = new URL(at, base);
  if (`${back.origin}${back.pathname}` !== redirectUri) throw new Error(`code: redirected to ${at}`);
  if (back.searchParams.get('state') !== state) throw new Error(`code: state mismatch in ${at}`);
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`code: none in ${at}`);

  const token = await fetch(new URL('/token', base), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
      client_id: clientId,
    }).toString(),
  });
  const tokens = await token.json();
  if (token.status !== 200 || typeof tokens.id_token !== 'string') {
    throw new Error(`token: ${token.status} ${JSON.stringify(tokens)}`);
  }
}

function percentile(sorted, q) {
  if (!sorted.length) return 0;
  const i = Math.round((sorted.length - 1) * q);
  return Math.round(sorted[i] * 100) / 100;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const mark = (what) => args.marks && process.stdout.write(`${JSON.stringify({ window: what })}\n`);
  const window = { from: Infinity, to: Infinity };
  let ended = false;
  const samples = [];
  let errors = 0;

  async function worker() {
    while (!ended) {
      const begun = performance.now();
      try {
        await signIn(args.base, args.clientId);
        const done = performance.now();
        if (begun >= window.from && done <= window.to) samples.push(done - begun);
      } catch (e) {
        errors += 1;
        if (errors <= 3) console.error(`oidc-provider sign-in failed: ${e.message}`);
      }
    }
  }

  const workers = Array.from({ length: args.concurrency }, worker);
  await sleep(args.warmup * 1000);
  window.from = performance.now();
  mark('start');
  await sleep(args.duration * 1000);
  window.to = performance.now();
  ended = true;
  mark('end');
  await Promise.all(workers);

  const seconds = (window.to - window.from) / 1000;
  samples.sort((a, b) => a - b);
  const report = {
    scenario: 'oidc-provider',
    ok: samples.length,
    errors,
    seconds: Math.round(seconds * 1000) / 1000,
    per_second: Math.round((samples.length / seconds) * 10) / 10,
    p50_ms: percentile(samples, 0.5),
    p99_ms: percentile(samples, 0.99),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
