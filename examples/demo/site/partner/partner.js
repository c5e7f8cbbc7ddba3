// The shop embeds the widget from the sign-in server's origin. In real life that URL is
// written in the page; here it is derived (shop.X → auth.X, same port) so the demo
// runs on any port.
const auth = new URL(location.href);
auth.hostname = auth.hostname.replace(/^shop\./, 'auth.');
const passway = `${auth.protocol}//${auth.host}`;

await import(`${passway}/widget/passway.js`);

const signin = document.createElement('passway-signin');
signin.setAttribute('client-id', 'acme-shop');
signin.setAttribute('redirect-uri', `${location.origin}/demo/partner/`);
signin.addEventListener('passway:success', (event) => {
  const payload = event.detail.tokens.id_token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
  const claims = JSON.parse(atob(payload));
  document.getElementById('greeting').textContent = `Welcome, ${claims.given_name || claims.email}!`;
  signin.hidden = true;
  document.getElementById('welcome').hidden = false;
});
document.getElementById('slot').prepend(signin);
