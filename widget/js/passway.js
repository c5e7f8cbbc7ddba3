// Passway sign-in widget loader: the one URL a website embeds.
//
//   <script type="module" src="https://AUTH/widget/passway.js"></script>
//   <passway-signin client-id="…" redirect-uri="…"></passway-signin>
// or
//   Passway.signIn({ el, clientId, redirectUri, onSuccess, onError })
//
// No inline script, no eval: works under a strict CSP (script-src AUTH 'wasm-unsafe-eval').
import init, { render } from './passway_glue.js';

const here = new URL('.', import.meta.url);
const defaultBaseUrl = new URL('..', here).href.replace(/\/$/, '');
const ready = init({ module_or_path: new URL('passway_bg.wasm', here) });

function start(el, options) {
  return ready.then(() => render(el, { baseUrl: defaultBaseUrl, ...options }));
}

class PasswaySignin extends HTMLElement {
  connectedCallback() {
    const attr = (name) => this.getAttribute(name) || undefined;
    const emit = (type) => (detail) =>
      this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
    this._handle = start(this, {
      baseUrl: attr('base-url') || defaultBaseUrl,
      clientId: attr('client-id'),
      redirectUri: attr('redirect-uri'),
      flow: attr('flow'),
      scope: attr('scope'),
      intent: attr('intent'),
      loginHint: attr('login-hint'),
      responseType: attr('response-type'),
      brand: attr('brand'),
      language: attr('language'),
      onSuccess: emit('passway:success'),
      onError: emit('passway:error'),
    }).catch((error) => emit('passway:error')({ error: 'widget_failed', message: String(error) }));
  }

  disconnectedCallback() {
    const handle = this._handle;
    this._handle = null;
    if (handle) handle.then((h) => h && h.unmount());
  }
}

if (!customElements.get('passway-signin')) customElements.define('passway-signin', PasswaySignin);

/** Renders the widget into `options.el`; resolves to a handle with `unmount()`. */
export function signIn(options) {
  const { el, ...rest } = options || {};
  if (!(el instanceof HTMLElement)) return Promise.reject(new TypeError('Passway.signIn needs { el: HTMLElement }'));
  return start(el, rest);
}

window.Passway = Object.freeze({ signIn });
