// Globex Portal: a browser-only OIDC relying party (authorization code + PKCE, public
// client). It discovers the provider, redirects to /authorize, exchanges the code at
// the token endpoint, and verifies the ID token's ES256 signature against the JWKS,
// its issuer, audience, nonce and expiry, before showing the claims. Signing out
// ends the Passway session too (RP-initiated logout), so the next sign-in asks again.
const CLIENT_ID = 'globex-portal';
const ISSUER = location.origin;
const REDIRECT_URI = `${location.origin}/demo/app/`;

const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const fromB64url = (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
const random = (n) => b64url(crypto.getRandomValues(new Uint8Array(n)));

async function discover() {
  const response = await fetch(`${ISSUER}/.well-known/openid-configuration`);
  return response.json();
}

async function signIn() {
  const config = await discover();
  const verifier = random(32);
  const challenge = b64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  const request = { verifier, state: random(16), nonce: random(16) };
  sessionStorage.setItem('globex-oidc', JSON.stringify(request));
  const url = new URL(config.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code', client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, scope: 'openid profile email',
    state: request.state, nonce: request.nonce, code_challenge: challenge, code_challenge_method: 'S256',
  });
  location.assign(url);
}

async function verifyIdToken(idToken, config, nonce) {
  const [h, p, s] = idToken.split('.');
  const header = JSON.parse(new TextDecoder().decode(fromB64url(h)));
  const claims = JSON.parse(new TextDecoder().decode(fromB64url(p)));
  if (header.alg !== 'ES256') throw new Error(`unexpected alg ${header.alg}`);
  const jwks = await (await fetch(config.jwks_uri)).json();
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) throw new Error(`no key ${header.kid} in the JWKS`);
  const key = await crypto.subtle.importKey('jwk', { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  const ok = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, fromB64url(s), new TextEncoder().encode(`${h}.${p}`));
  if (!ok) throw new Error('bad signature');
  if (claims.iss !== config.issuer) throw new Error('wrong issuer');
  if (claims.aud !== CLIENT_ID) throw new Error('wrong audience');
  if (claims.nonce !== nonce) throw new Error('wrong nonce');
  if (claims.exp * 1000 < Date.now()) throw new Error('expired');
  return claims;
}

async function callback(params) {
  const request = JSON.parse(sessionStorage.getItem('globex-oidc') || 'null');
  sessionStorage.removeItem('globex-oidc');
  if (params.get('error')) throw new Error(`${params.get('error')}: ${params.get('error_description')}`);
  if (!request || params.get('state') !== request.state) throw new Error('state does not match: not our sign-in');
  const config = await discover();
  const response = await fetch(config.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: params.get('code'), redirect_uri: REDIRECT_URI, client_id: CLIENT_ID, code_verifier: request.verifier }),
  });
  const tokens = await response.json();
  if (!response.ok) throw new Error(`${tokens.error}: ${tokens.error_description}`);
  const claims = await verifyIdToken(tokens.id_token, config, request.nonce);
  sessionStorage.setItem('globex-session', JSON.stringify(claims));
  sessionStorage.setItem('globex-id-token', tokens.id_token);
  history.replaceState(null, '', '/demo/app/');
  return claims;
}

function show(claims, error) {
  document.getElementById('signed-out').hidden = !!claims;
  document.getElementById('signed-in').hidden = !claims;
  const verdict = document.getElementById('verdict');
  if (error) {
    document.getElementById('signed-out').insertAdjacentHTML('beforeend', '<p class="bad" id="error"></p>');
    document.getElementById('error').textContent = `Sign-in failed: ${error.message}`;
    return;
  }
  if (!claims) return;
  document.getElementById('greeting').textContent = `Hello, ${claims.name || claims.email}`;
  verdict.className = 'ok';
  verdict.textContent = 'ID token verified: ES256 signature, issuer, audience, nonce and expiry.';
  document.getElementById('claims').replaceChildren(...Object.entries(claims).map(([k, v]) => {
    const row = document.createElement('tr');
    row.innerHTML = '<th></th><td></td>';
    row.children[0].textContent = k;
    row.children[1].textContent = typeof v === 'object' ? JSON.stringify(v) : String(v);
    return row;
  }));
}

document.getElementById('signin').addEventListener('click', () => signIn().catch((e) => show(null, e)));
async function signOut() {
  const idToken = sessionStorage.getItem('globex-id-token');
  sessionStorage.removeItem('globex-session');
  sessionStorage.removeItem('globex-id-token');
  if (!idToken) return show(null);
  const config = await discover();
  const url = new URL(config.end_session_endpoint);
  url.search = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: REDIRECT_URI });
  location.assign(url);
}

document.getElementById('signout').addEventListener('click', () => signOut().catch((e) => show(null, e)));

const params = new URLSearchParams(location.search);
if (params.has('code') || params.has('error')) {
  callback(params).then((claims) => show(claims), (e) => show(null, e));
} else {
  show(JSON.parse(sessionStorage.getItem('globex-session') || 'null'));
}
