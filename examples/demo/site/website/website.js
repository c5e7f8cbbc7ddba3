// Acme Shop: reacts to the widget's events. The redirect URI names this page at
// whatever address it was opened (127.0.0.1 or localhost, any port). Signing out
// ends the Passway session too (RP-initiated logout) and comes back here.
const signin = document.getElementById('signin');
const here = `${location.origin}/demo/website/`;
signin.setAttribute('redirect-uri', here);
// `?lang=ar` (any of Passway's languages) shows the widget in that language.
const lang = new URLSearchParams(location.search).get('lang');
if (lang) signin.setAttribute('language', lang);
const passway = new URL(document.querySelector('script[src$="/widget/passway.js"]').src).origin;
let idToken = null;

function claimsOf(idToken) {
  const payload = idToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload), (c) => c.charCodeAt(0))));
}

signin.addEventListener('passway:success', (event) => {
  idToken = event.detail.tokens.id_token;
  const claims = claimsOf(idToken);
  document.getElementById('greeting').textContent = `Welcome, ${claims.given_name || claims.email}!`;
  const table = document.getElementById('claims');
  table.replaceChildren(...Object.entries(claims).map(([k, v]) => {
    const row = document.createElement('tr');
    const name = document.createElement('th');
    const value = document.createElement('td');
    name.textContent = k;
    value.textContent = typeof v === 'object' ? JSON.stringify(v) : String(v);
    row.append(name, value);
    return row;
  }));
  signin.hidden = true;
  document.getElementById('welcome').hidden = false;
});

signin.addEventListener('passway:error', (event) => console.warn('Passway:', event.detail));

document.getElementById('signout').addEventListener('click', () => {
  if (!idToken) return location.reload();
  const url = new URL(`${passway}/oauth2/v1/logout`);
  url.search = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: here });
  location.assign(url);
});
