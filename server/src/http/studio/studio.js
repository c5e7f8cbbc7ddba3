// The studio page: lays out the gallery (one frame per entry, brand, language and
// scheme) from /studio/gallery.json, and keeps it live from /studio/events.
const $ = (id) => document.getElementById(id);
const controls = ['brand', 'locale', 'brand2', 'locale2', 'scheme', 'width', 'zoom', 'app', 'group'];
let gallery = null;
let version = 0;

function option(select, value, text) {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = text ?? value;
  select.append(o);
}

async function load() {
  gallery = await (await fetch('/studio/gallery.json')).json();
  version = gallery.version;
  for (const b of gallery.brands) { option($('brand'), b); option($('brand2'), b); }
  for (const l of gallery.locales) { option($('locale'), l); option($('locale2'), l); }
  for (const g of [...new Set(gallery.entries.map((e) => e.group))]) option($('group'), g);
  const params = new URLSearchParams(location.search);
  $('brand').value = gallery.brands.includes('acme') ? 'acme' : gallery.brands[0];
  $('locale').value = 'en';
  $('locale2').value = 'en';
  for (const c of controls) if (params.has(c)) $(c).value = params.get(c);
  for (const c of controls) $(c).addEventListener('change', () => { remember(); render(); });
  showProblems(gallery.problems);
  render();
  listen();
}

function remember() {
  const params = new URLSearchParams();
  for (const c of controls) if ($(c).value) params.set(c, $(c).value);
  history.replaceState(null, '', `?${params}`);
}

/// The columns each entry is shown in: [brand, locale, scheme].
function columns() {
  const schemes = $('scheme').value === 'both' ? ['light', 'dark'] : [$('scheme').value];
  const sides = [[$('brand').value, $('locale').value]];
  if ($('brand2').value) sides.push([$('brand2').value, $('locale2').value]);
  return sides.flatMap(([b, l]) => schemes.map((s) => [b, l, s]));
}

function render() {
  const main = $('gallery');
  main.replaceChildren();
  const width = Number($('width').value);
  const zoom = Number($('zoom').value);
  const height = width < 500 ? 760 : 680;
  const app = encodeURIComponent($('app').value || 'Acme Shop');
  for (const entry of gallery.entries) {
    if ($('group').value && entry.group !== $('group').value) continue;
    const section = document.createElement('section');
    section.className = 'studio-entry';
    section.id = `entry-${entry.name}`;
    const h2 = document.createElement('h2');
    h2.textContent = `${entry.group} · ${entry.title} `;
    const code = document.createElement('code');
    code.textContent = entry.name;
    h2.append(code);
    const row = document.createElement('div');
    row.className = 'studio-row';
    for (const [brand, locale, scheme] of columns()) {
      const cell = document.createElement('div');
      cell.className = 'studio-cell';
      cell.style.width = `${width * zoom}px`;
      const label = document.createElement('p');
      label.textContent = entry.kind === 'email' ? `${brand} · ${locale}` : `${brand} · ${locale} · ${scheme}`;
      const frame = document.createElement('iframe');
      frame.title = `${entry.title}, ${brand}, ${locale}, ${scheme}`;
      frame.dataset.brand = brand;
      frame.dataset.entry = entry.name;
      frame.style.width = `${width}px`;
      frame.style.height = `${height}px`;
      frame.style.transform = `scale(${zoom})`;
      cell.style.height = `${height * zoom + 26}px`;
      frame.src = entry.kind === 'email'
        ? `/studio/email/${brand}/${locale}/${app}/${entry.name}/html`
        : `/studio/frame/${brand}/${locale}/${scheme}/${app}/${entry.name}`;
      cell.append(label, frame);
      if (entry.kind === 'email') {
        const text = document.createElement('pre');
        text.dir = 'auto';
        cell.style.height = 'auto';
        fetch(`/studio/email/${brand}/${locale}/${app}/${entry.name}/text`).then((r) => r.text()).then((t) => { text.textContent = t; });
        cell.append(text);
      }
      row.append(cell);
    }
    section.append(h2, row);
    main.append(section);
  }
}

function showProblems(problems) {
  const box = $('problems');
  box.hidden = problems.length === 0;
  box.textContent = problems.length ? `The last good version is shown until these are fixed:\n${problems.join('\n')}` : '';
}

/// Brings every frame up to date in place: stylesheets and logos get the new version,
/// each widget is mounted again (it fetches its step and theme anew).
function refresh() {
  for (const frame of document.querySelectorAll('iframe')) {
    const doc = frame.contentDocument;
    if (!doc) continue;
    if (frame.src.includes('/studio/email/')) { frame.src = frame.src.split('?')[0] + `?v=${version}`; continue; }
    for (const link of doc.querySelectorAll('link[rel=stylesheet]')) link.href = link.href.split('?')[0] + `?v=${version}`;
    for (const img of doc.querySelectorAll('img')) img.src = img.src.split('?')[0] + `?v=${version}`;
    const widget = doc.querySelector('passway-signin');
    if (widget) widget.replaceWith(widget.cloneNode(false));
  }
}

function listen() {
  const events = new EventSource('/studio/events');
  events.addEventListener('themes', (e) => {
    const data = JSON.parse(e.data);
    version = data.version;
    showProblems(data.problems);
    $('status').textContent = `Themes reloaded at ${new Date().toLocaleTimeString()} (version ${version}).`;
    refresh();
  });
}

load();
