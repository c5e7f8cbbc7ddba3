// The admin console: pages over the admin API. Every call carries the console header
// (the server accepts the console's cookie only with it); nothing here is trusted with
// more than the API allows, and everything shown is set as text, never as HTML.
'use strict';

const $ = (selector) => document.querySelector(selector);
const status = (text) => { $('#status').textContent = text; };

async function api(path, options = {}) {
  const headers = { 'x-passway-console': '1' };
  if (options.json !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method: options.method || 'GET',
    headers,
    body: options.json !== undefined ? JSON.stringify(options.json) : undefined,
    credentials: 'same-origin',
  });
  if (response.status === 401 || response.status === 404) {
    location.href = '/admin/signin';
    throw new Error('signed out');
  }
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new Error((body && body.message) || response.statusText);
  return { body, response };
}

function el(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  return node;
}

function button(text, onClick, className) {
  const b = el('button', text, { type: 'button' });
  if (className) b.className = className;
  b.addEventListener('click', onClick);
  return b;
}

const act = (what, run) => async () => {
  try { await run(); status(what); } catch (e) { status(`Failed: ${e.message}`); }
};

// Users.
let after = null;
async function search(more = false) {
  const q = $('#q').value.trim();
  const params = new URLSearchParams({ limit: '25' });
  if (q) params.set('q', q);
  if ($('#status-filter').value) params.set('status', $('#status-filter').value);
  if (more && after) params.set('after', after);
  const { body } = await api(`/api/v1/admin/users?${params}`);
  const rows = $('#user-list tbody');
  if (!more) rows.replaceChildren();
  for (const u of body.users) {
    const tr = el('tr');
    const cell = el('td');
    cell.append(button(u.email, () => show(u.id), 'link'));
    tr.append(cell, el('td', u.status), el('td', u.created));
    rows.append(tr);
  }
  after = body.next || null;
  $('#more').hidden = !after;
  status(`${rows.children.length} account(s)`);
}

let shown = null;
async function show(id) {
  const { body: u } = await api(`/api/v1/admin/users/${encodeURIComponent(id)}`);
  shown = u;
  $('#user').hidden = false;
  $('#user-title').textContent = u.email;
  const name = Object.entries(u.profile).map(([k, v]) => `${k}: ${v}`).join(', ');
  $('#user-facts').textContent = `${u.status} · groups: ${u.groups.join(', ') || 'none'} · created ${u.created}${name ? ` · ${name}` : ''}`;
  const base = `/api/v1/admin/users/${encodeURIComponent(id)}`;

  const auths = $('#user-authenticators');
  auths.replaceChildren();
  for (const a of (await api(`${base}/authenticators`)).body) {
    const li = el('li', `${a.type}: ${a.name}${a.created ? ` (added ${a.created})` : ''} `);
    li.append(button('Remove', act(`${a.name} removed`, async () => {
      await api(`${base}/authenticators/${encodeURIComponent(a.id)}`, { method: 'DELETE' });
      await show(id);
    })));
    auths.append(li);
  }
  if (!auths.children.length) auths.append(el('li', 'None (email only)'));

  const sessions = $('#user-sessions');
  sessions.replaceChildren();
  for (const s of (await api(`${base}/sessions`)).body) {
    const li = el('li', `${s.authenticators.join(' + ')} · since ${s.created} · last seen ${s.lastSeen} `);
    li.append(button('End', act('Session ended', async () => {
      await api(`${base}/sessions/${encodeURIComponent(s.id)}`, { method: 'DELETE' });
      await show(id);
    })));
    sessions.append(li);
  }
  if (!sessions.children.length) sessions.append(el('li', 'No live session'));

  const filter = `actor.id eq "${id}" or target.id eq "${id}"`;
  const events = (await api(`/api/v1/logs?${new URLSearchParams({ filter, sortOrder: 'DESCENDING', limit: '20', since: '30d' })}`)).body;
  const list = $('#user-events');
  list.replaceChildren(...events.map(line));
}

function line(e) {
  return el('li', `${e.published} ${e.eventType} ${e.outcome.result} ${e.actor.alternateId} — ${e.displayMessage}`);
}

const actions = {
  deactivate: (base) => api(`${base}/lifecycle/deactivate`, { method: 'POST' }),
  reactivate: (base) => api(`${base}/lifecycle/reactivate`, { method: 'POST' }),
  unlock: (base) => api(`${base}/unlock`, { method: 'POST' }),
  'end-sessions': (base) => api(`${base}/sessions`, { method: 'DELETE' }),
  reset: (base) => api(`${base}/authenticators/reset`, { method: 'POST' }),
  erase: (base) => api(base, { method: 'DELETE' }),
};

for (const b of document.querySelectorAll('#user-actions button')) {
  b.addEventListener('click', async () => {
    if (!shown) return;
    const what = b.dataset.action;
    if (what === 'erase' && !confirm(`Erase ${shown.email} and everything kept about it?`)) return;
    const base = `/api/v1/admin/users/${encodeURIComponent(shown.id)}`;
    try {
      await actions[what](base);
      status(`${b.textContent}: done for ${shown.email}`);
      if (what === 'erase') { $('#user').hidden = true; shown = null; await search(); } else { await show(shown.id); }
    } catch (e) { status(`Failed: ${e.message}`); }
  });
}

$('#search').addEventListener('submit', (e) => { e.preventDefault(); search().catch((err) => status(`Failed: ${err.message}`)); });
$('#more').addEventListener('click', () => search(true).catch((err) => status(`Failed: ${err.message}`)));
$('#join').addEventListener('submit', (e) => {
  e.preventDefault();
  const group = $('#join-group').value.trim();
  if (!shown || !group) return;
  act(`Added to ${group}`, async () => {
    await api(`/api/v1/admin/groups/${encodeURIComponent(group)}/users/${encodeURIComponent(shown.id)}`, { method: 'PUT' });
    await show(shown.id);
    await groups();
  })();
});

// Groups.
async function groups() {
  const rows = $('#group-list tbody');
  rows.replaceChildren();
  for (const g of (await api('/api/v1/admin/groups')).body) {
    const tr = el('tr');
    const actionsCell = el('td');
    if (g.source === 'store') {
      actionsCell.append(button('Delete', act(`${g.name} deleted`, async () => {
        await api(`/api/v1/admin/groups/${encodeURIComponent(g.name)}`, { method: 'DELETE' });
        await groups();
      })));
    }
    tr.append(el('td', g.name), el('td', g.source), el('td', String(g.members)), el('td', g.description), actionsCell);
    rows.append(tr);
  }
}
$('#new-group').addEventListener('submit', (e) => {
  e.preventDefault();
  act('Group created', async () => {
    await api('/api/v1/admin/groups', { method: 'POST', json: { name: $('#group-name').value.trim(), description: $('#group-description').value } });
    e.target.reset();
    await groups();
  })();
});

// The system log, live: the next link of an ascending page returns what arrived since.
let next = null;
let tailing = 0;
async function log() {
  const run = ++tailing;
  const params = new URLSearchParams({ since: '1h', limit: '200' });
  const filter = $('#filter').value.trim();
  if (filter) params.set('filter', filter);
  $('#log-events').replaceChildren();
  next = `/api/v1/logs?${params}`;
  while (run === tailing) {
    const { body, response } = await api(next);
    $('#log-events').prepend(...body.map(line).reverse());
    const link = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') || '');
    if (!link) break;
    const url = new URL(link[1]);
    next = url.pathname + url.search;
    if (!$('#tail').checked) break;
    await new Promise((ok) => setTimeout(ok, 2000));
  }
}
$('#log-filter').addEventListener('submit', (e) => { e.preventDefault(); log().catch((err) => status(`Failed: ${err.message}`)); });
$('#tail').addEventListener('change', () => { if ($('#tail').checked) log().catch((err) => status(`Failed: ${err.message}`)); else tailing++; });

// Event hooks.
async function hooks() {
  const rows = $('#hook-list tbody');
  rows.replaceChildren();
  for (const h of (await api('/api/v1/admin/hooks')).body) {
    rows.append(Object.assign(el('tr'), {}));
    rows.lastChild.append(el('td', h.name), el('td', h.status), el('td', String(h.pending ?? 0)), el('td', h.nextAttemptAt || ''));
  }
  if (!rows.children.length) {
    const tr = el('tr');
    tr.append(el('td', 'No event hooks are configured.', { colspan: '4' }));
    rows.append(tr);
  }
}

search().catch((e) => status(`Failed: ${e.message}`));
groups().catch((e) => status(`Failed: ${e.message}`));
hooks().catch((e) => status(`Failed: ${e.message}`));
log().catch((e) => status(`Failed: ${e.message}`));
