// @ts-check
// The site's only client script: theme toggle, chapter menu on small screens, search over the
// build-time index, copy buttons, the "On this page" highlight, and live reload under site:serve.
(function () {
  'use strict';
  var doc = document.documentElement;
  var root = doc.getAttribute('data-root') || './';
  var THEME_KEY = 'workbook-theme';

  // ---- Theme -------------------------------------------------------------------------------
  var toggle = document.querySelector('.theme-toggle');
  function applyTheme(theme) {
    doc.setAttribute('data-theme', theme);
    if (toggle) toggle.setAttribute('aria-pressed', String(theme === 'dark'));
  }
  function storedTheme() {
    try { return localStorage.getItem(THEME_KEY); } catch (e) { return null; }
  }
  applyTheme(doc.getAttribute('data-theme') === 'dark' ? 'dark' : 'light');
  if (toggle) toggle.addEventListener('click', function () {
    var next = doc.getAttribute('data-theme') === 'dark' ? 'light' : 'dark';
    applyTheme(next);
    try { localStorage.setItem(THEME_KEY, next); } catch (e) { /* not remembered, still applied */ }
  });
  if (window.matchMedia) window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', function (e) {
    if (!storedTheme()) applyTheme(e.matches ? 'dark' : 'light');
  });

  // ---- Chapter menu on small screens ---------------------------------------------------------
  var menu = document.querySelector('.menu-button');
  var scrim = document.querySelector('.sidebar-scrim');
  function setMenu(open) {
    document.body.classList.toggle('sidebar-open', open);
    if (menu) menu.setAttribute('aria-expanded', String(open));
    if (scrim) scrim.hidden = !open;
  }
  if (menu) menu.addEventListener('click', function () { setMenu(!document.body.classList.contains('sidebar-open')); });
  if (scrim) scrim.addEventListener('click', function () { setMenu(false); });
  document.querySelectorAll('.sidebar a').forEach(function (a) { a.addEventListener('click', function () { setMenu(false); }); });

  // ---- Search ------------------------------------------------------------------------------
  var dialog = /** @type {HTMLDialogElement | null} */ (document.getElementById('site-search'));
  var input = /** @type {HTMLInputElement | null} */ (document.getElementById('site-search-input'));
  var list = document.getElementById('site-search-results');
  var status = document.getElementById('site-search-status');
  var index = null;
  var loading = null;
  var selected = 0;

  /** Lowercase with straight quotes; keeps every character's position, so marks line up with the text. */
  function normalize(s) {
    return s.toLowerCase().replace(/[\u2018\u2019]/g, "'").replace(/[\u201c\u201d]/g, '"');
  }
  function loadIndex() {
    if (!loading) loading = fetch(root + 'search-index.json')
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (data) {
        index = data.entries.map(function (e) { return { e: e, p: normalize(e.p), h: normalize(e.h), t: normalize(e.t) }; });
        return index;
      });
    return loading;
  }
  function count(hay, needle) {
    var n = 0;
    for (var at = hay.indexOf(needle); at >= 0 && n < 5; at = hay.indexOf(needle, at + needle.length)) n++;
    return n;
  }
  function search(query) {
    var q = normalize(query).trim();
    var terms = q.split(/\s+/).filter(Boolean);
    if (!terms.length) return [];
    var out = [];
    index.forEach(function (item) {
      var score = 0;
      for (var i = 0; i < terms.length; i++) {
        var t = terms[i];
        var inH = item.h.indexOf(t) >= 0, inP = item.p.indexOf(t) >= 0, n = count(item.t, t);
        if (!inH && !inP && !n) return;
        score += (inH ? 10 : 0) + (inP ? 4 : 0) + n;
      }
      if (terms.length > 1) score += (item.h.indexOf(q) >= 0 ? 15 : 0) + (item.t.indexOf(q) >= 0 ? 5 : 0);
      out.push({ item: item, score: score });
    });
    out.sort(function (a, b) { return b.score - a.score; });
    return out.slice(0, 20).map(function (r) { return r.item; });
  }
  /** Text with the query's terms wrapped in <mark>, built as DOM nodes (never as markup). */
  function marked(parent, text, terms) {
    var norm = normalize(text);
    var pos = 0;
    while (pos < text.length) {
      var best = -1, len = 0;
      terms.forEach(function (t) { var at = norm.indexOf(t, pos); if (at >= 0 && (best < 0 || at < best)) { best = at; len = t.length; } });
      if (best < 0) break;
      parent.appendChild(document.createTextNode(text.slice(pos, best)));
      var m = document.createElement('mark');
      m.textContent = text.slice(best, best + len);
      parent.appendChild(m);
      pos = best + len;
    }
    parent.appendChild(document.createTextNode(text.slice(pos)));
  }
  function snippet(text, terms) {
    var norm = normalize(text);
    var at = -1;
    terms.forEach(function (t) { var i = norm.indexOf(t); if (i >= 0 && (at < 0 || i < at)) at = i; });
    var start = Math.max(0, at - 60);
    var s = text.slice(start, start + 180);
    return (start > 0 ? '…' : '') + s + (start + 180 < text.length ? '…' : '');
  }
  function span(cls) { var s = document.createElement('span'); s.className = cls; return s; }
  function render(query) {
    if (!list || !status || !index) return;
    list.textContent = '';
    selected = 0;
    var q = query.trim();
    if (!q) { status.textContent = 'Search every lesson: type a word such as “socket”.'; return; }
    var terms = normalize(q).split(/\s+/).filter(Boolean);
    var results = search(q);
    status.textContent = results.length ? results.length + (results.length === 1 ? ' result' : ' results') : 'No results for “' + q + '”.';
    results.forEach(function (r, i) {
      var li = document.createElement('li');
      var a = document.createElement('a');
      a.href = root + r.e.u;
      a.className = 'search-result';
      if (i === 0) a.setAttribute('aria-selected', 'true');
      var page = span('search-result-page'); page.textContent = r.e.p;
      var heading = span('search-result-heading'); marked(heading, r.e.h || r.e.p, terms);
      var text = span('search-result-text'); marked(text, snippet(r.e.t, terms), terms);
      a.append(page, heading, text);
      a.addEventListener('click', function () { if (dialog) dialog.close(); });
      li.appendChild(a);
      list.appendChild(li);
    });
  }
  function move(delta) {
    if (!list) return;
    var links = list.querySelectorAll('a');
    if (!links.length) return;
    links[selected].removeAttribute('aria-selected');
    selected = (selected + delta + links.length) % links.length;
    links[selected].setAttribute('aria-selected', 'true');
    links[selected].scrollIntoView({ block: 'nearest' });
  }
  function openSearch() {
    if (!dialog || !input || !status) return;
    if (!dialog.open) dialog.showModal();
    input.focus();
    input.select();
    if (!index) status.textContent = 'Loading the index…';
    loadIndex().then(function () { render(input.value); }, function () {
      status.textContent = 'Search needs the site to be served over http: run npm run site:serve.';
    });
  }
  document.querySelectorAll('.search-button').forEach(function (b) { b.addEventListener('click', openSearch); });
  if (input) {
    input.addEventListener('input', function () { if (index) render(input.value); });
    input.addEventListener('keydown', function (e) {
      if (e.key === 'ArrowDown') { e.preventDefault(); move(1); }
      else if (e.key === 'ArrowUp') { e.preventDefault(); move(-1); }
      else if (e.key === 'Enter') {
        e.preventDefault();
        var link = list && list.querySelector('a[aria-selected="true"]');
        if (link) { if (dialog) dialog.close(); location.href = /** @type {HTMLAnchorElement} */ (link).href; }
      }
    });
  }
  if (dialog) dialog.addEventListener('click', function (e) { if (e.target === dialog) dialog.close(); });
  document.addEventListener('keydown', function (e) {
    var t = /** @type {HTMLElement} */ (e.target);
    var typing = t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
    if ((e.key === 'k' && (e.ctrlKey || e.metaKey)) || (e.key === '/' && !typing)) { e.preventDefault(); openSearch(); }
    else if (e.key === 'Escape' && document.body.classList.contains('sidebar-open')) setMenu(false);
  });

  // ---- Copy buttons ------------------------------------------------------------------------
  var SVG_NS = 'http://www.w3.org/2000/svg';
  function svgEl(name, attrs) {
    var el = document.createElementNS(SVG_NS, name);
    Object.keys(attrs).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    return el;
  }
  function copyIcon() {
    var svg = svgEl('svg', { width: '16', height: '16', viewBox: '0 0 24 24', fill: 'none', stroke: 'currentColor', 'stroke-width': '2', 'stroke-linecap': 'round', 'stroke-linejoin': 'round', 'aria-hidden': 'true' });
    svg.append(svgEl('rect', { x: '9', y: '9', width: '12', height: '12', rx: '2' }), svgEl('path', { d: 'M5 15V5a2 2 0 0 1 2-2h10' }));
    return svg;
  }
  document.querySelectorAll('.code-block').forEach(function (block) {
    var code = block.querySelector('code');
    if (!code || !navigator.clipboard) return;
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'copy-button';
    button.setAttribute('aria-label', 'Copy code');
    button.appendChild(copyIcon());
    button.addEventListener('click', function () {
      navigator.clipboard.writeText(code.textContent || '').then(function () {
        button.classList.add('copied');
        button.setAttribute('aria-label', 'Copied');
        setTimeout(function () { button.classList.remove('copied'); button.setAttribute('aria-label', 'Copy code'); }, 1600);
      }, function () { button.setAttribute('aria-label', 'Copy failed: select the code instead'); });
    });
    block.appendChild(button);
  });

  // ---- "On this page": highlight the section being read -----------------------------------
  var outlineLinks = Array.prototype.slice.call(document.querySelectorAll('.outline a'));
  if (outlineLinks.length) {
    var targets = outlineLinks.map(function (a) { return document.getElementById(decodeURIComponent(a.hash.slice(1))); });
    var ticking = false;
    var update = function () {
      ticking = false;
      var active = 0;
      targets.forEach(function (h, i) { if (h && h.getBoundingClientRect().top < 120) active = i; });
      outlineLinks.forEach(function (a, i) { a.classList.toggle('active', i === active); });
    };
    window.addEventListener('scroll', function () { if (!ticking) { ticking = true; requestAnimationFrame(update); } }, { passive: true });
    update();
  }

  // ---- Live reload (only under npm run site:serve) -----------------------------------------
  var live = document.querySelector('meta[name="workbook-live-reload"]');
  if (live && window.EventSource) {
    var events = new EventSource(live.getAttribute('content') || '');
    events.addEventListener('reload', function () { location.reload(); });
  }
})();
