/*
 * trisync admin UI: overview of every tenant (admins), a tenant's files, issues, operations and
 * quarantine, actions (analyze, fix with a dry-run preview, cancel, cleanup, restore), and a live
 * events feed, kept current over the event-bus bridge (js/trisync-events.js) with a 30 s fallback
 * refresh. Plain DOM, no build step; every text goes in through textContent.
 */
(function () {
  'use strict';

  var state = { token: null, claims: null, live: null, view: null, tenant: null, refreshTimer: null,
    files: [], cursor: null, issues: [], overview: null, running: null };

  function $(id) { return document.getElementById(id); }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }

  function row(cells) {
    var tr = document.createElement('tr');
    cells.forEach(function (c) {
      var td = document.createElement('td');
      if (c instanceof Node) { td.appendChild(c); } else { td.textContent = c === null || c === undefined ? '' : String(c); }
      tr.appendChild(td);
    });
    return tr;
  }

  function fill(tbody, rows) {
    tbody.textContent = '';
    rows.forEach(function (r) { tbody.appendChild(r); });
  }

  function show(message) {
    var box = $('message');
    delete box.dataset.error;
    if (!message) { box.hidden = true; box.textContent = ''; return; }
    box.textContent = message;
    box.hidden = false;
  }

  function isAdmin() { return state.claims && (state.claims.roles || []).indexOf('admin') >= 0; }

  function api(method, path, body) {
    // With authentication off (state.token ''), requests carry no token.
    var init = { method: method, headers: state.token ? { Authorization: 'Bearer ' + state.token } : {} };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (r) {
      return r.text().then(function (text) {
        var json = null;
        try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
        if (r.status === 401) { signOut('Your token was refused: ' + (json && json.message || r.status)); }
        if (!r.ok) {
          var error = new Error((json && (json.message || (json.latest_sync && 'an operation is running: '
            + json.latest_sync.progress.stage + ' ' + Math.round(json.latest_sync.progress.percentage) + '%')))
            || ('request failed with status ' + r.status));
          error.status = r.status;
          throw error;
        }
        return json;
      });
    });
  }

  /** A failed request: its message, and a Retry that loads the page's data again. */
  function fail(error) {
    show(error.message || String(error));
    $('message').dataset.error = 'true';
    var retry = el('button', 'Retry');
    retry.type = 'button';
    retry.id = 'retry';
    retry.addEventListener('click', function () { show(null); refresh(); });
    $('message').appendChild(document.createTextNode(' '));
    $('message').appendChild(retry);
  }

  function decode(token) {
    var part = token.split('.')[1] || '';
    part = part.replace(/-/g, '+').replace(/_/g, '/');
    while (part.length % 4) { part += '='; }
    return JSON.parse(atob(part));
  }

  function ago(iso) {
    if (!iso) { return '—'; }
    var s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    return s < 60 ? s + ' s' : s < 3600 ? Math.round(s / 60) + ' min' : Math.round(s / 3600) + ' h';
  }

  // ---- sign-in ---------------------------------------------------------------------------------

  function signIn(token) {
    try {
      state.claims = decode(token);
    } catch (e) {
      show('That does not look like a token.');
      return;
    }
    state.token = token;
    sessionStorage.setItem('trisync.token', token);
    $('who').textContent = isAdmin() ? 'admin' + (state.claims.tenant ? ' (' + state.claims.tenant + ')' : '')
      : 'tenant ' + state.claims.tenant;
    $('signout').hidden = false;
    signedIn();
  }

  /** Authentication is off on this node: every caller is an admin, no token to ask for. */
  function openAccess() {
    state.claims = { sub: 'anonymous', roles: ['admin'] };
    state.token = '';
    $('who').textContent = 'authentication is off: every caller is an admin';
    $('signout').hidden = true;
    signedIn();
  }

  function signedIn() {
    document.querySelectorAll('.admin-only').forEach(function (e) { e.hidden = !isAdmin(); });
    startLive();
    route();
  }

  function signOut(message) {
    sessionStorage.removeItem('trisync.token');
    state.token = null;
    if (state.live) { state.live.stop(); state.live = null; }
    ['overview', 'tenant', 'events-panel'].forEach(function (id) { $(id).hidden = true; });
    $('signin').hidden = false;
    $('signout').hidden = true;
    $('who').textContent = '';
    show(message || null);
  }

  // ---- live ------------------------------------------------------------------------------------

  function startLive() {
    if (state.live) { state.live.stop(); }
    state.live = new TrisyncEvents({
      token: state.token,
      tenant: isAdmin() ? null : state.claims.tenant,
      onstate: function (s) {
        var b = $('live');
        b.textContent = s === 'open' ? 'live' : s;
        b.className = 'badge ' + s;
        // Data shown while the connection is down may be stale: say so, with when it was last refreshed.
        // (Not while it first connects: nothing shown yet is stale then.)
        $('stale').hidden = s !== 'reconnecting' && s !== 'closed';
        $('stale-since').textContent = state.refreshedAt ? state.refreshedAt.toLocaleTimeString() : 'never';
      },
      onevent: onEvent,
      onreload: function () { refresh(); },
      onerror: function (m) { show('Live events: ' + m); }
    });
    state.live.start();
    clearInterval(state.fallback);
    state.fallback = setInterval(refresh, 30000);
  }

  function onEvent(e) {
    addEvent(e);
    if ((state.view === 'tenant' || state.view === 'file') && e.tenantId !== state.tenant) { return; }
    if (e.type === 'sync.op_progress' && state.view === 'tenant') {
      // The event carries the progress; the stored record catches up at the next heartbeat.
      if (e.data) {
        // Shown at once, also before the operation's record has been read: a short operation may
        // end before that read answers, and its last count would never be seen.
        $('operation').hidden = false;
        showProgress(e.opId, e.data.stage, e.data.percentage, e.data.currentFile, e.data.totalFiles, e.data.rate,
          e.data.etaSeconds, e.data.partitionsDone, e.data.partitions, e.data.filesSkipped);
      }
      if (!state.running || state.running.id !== e.opId) {
        refreshOperation().catch(fail);
      }
      return;
    }
    scheduleRefresh();
  }

  function scheduleRefresh() {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(refresh, 150);
  }

  // ---- events feed -----------------------------------------------------------------------------

  var feed = [];

  function addEvent(e) {
    feed.unshift(e);
    if (feed.length > 200) { feed.pop(); }
    renderEvents();
  }

  function renderEvents() {
    var t = state.view === 'tenant' || state.view === 'file' ? state.tenant : $('event-tenant').value.trim();
    var k = $('event-type').value.trim();
    var list = $('events');
    list.textContent = '';
    feed.filter(function (e) {
      return (!t || e.tenantId === t) && (!k || e.type.indexOf(k) >= 0);
    }).slice(0, 100).forEach(function (e) {
      list.appendChild(el('li', (e.at || '') + ' ' + e.tenantId + ' #' + e.seq + ' ' + e.type + ' '
        + (e.fileId || e.opId || '') + (e.data && e.data.type ? ' ' + e.data.type : '')));
    });
  }

  function loadEvents() {
    // A tenant page shows that tenant's events only; the overview every tenant's (for an admin).
    var tenant = state.view === 'tenant' || state.view === 'file' ? state.tenant : isAdmin() ? null : state.claims.tenant;
    var path = '/api/sync/events/recent?limit=50' + (tenant ? '&user_id=' + encodeURIComponent(tenant) : '');
    return api('GET', path).then(function (body) {
      feed = (body.events || []).slice();
      renderEvents();
    });
  }

  // ---- routing ---------------------------------------------------------------------------------

  function route() {
    if (state.token === null) { signOut(); return; }
    $('signin').hidden = true;
    $('events-panel').hidden = false;
    var f = location.hash.match(/^#\/tenant\/([^/]+)\/file\/(.+)$/);
    var m = location.hash.match(/^#\/tenant\/([^/?]+)(?:\?(.*))?$/);
    $('file').hidden = true;
    if (f) {
      openFile(decodeURIComponent(f[1]), decodeURIComponent(f[2]));
    } else if (m) {
      openTenant(decodeURIComponent(m[1]), new URLSearchParams(m[2] || ''));
    } else if (isAdmin()) {
      state.view = 'overview';
      state.tenant = null;
      $('tenant').hidden = true;
      $('overview').hidden = false;
      refresh();
    } else {
      location.hash = '#/tenant/' + encodeURIComponent(state.claims.tenant);
    }
    loadEvents().catch(fail);
  }

  function refresh() {
    if (state.token === null) { return; }
    if (state.view === 'overview') { loadOverview().catch(fail); }
    if (state.view === 'tenant') { loadTenant().catch(fail); }
    if (state.view === 'file') { loadFile().catch(fail); }
  }

  // ---- overview --------------------------------------------------------------------------------

  function loadOverview() {
    return Promise.all([api('GET', '/api/sync/tenants'), api('GET', '/api/sync/status'),
      api('GET', '/api/sync/trends?limit=100'), api('GET', '/api/vector-collections')]).then(function (r) {
      state.overview = r[0];
      renderOverview(r[0]);
      renderService(r[1], r[3]);
      renderTrend('trend-overview', r[2]);
      refreshed();
    });
  }

  function refreshed() {
    state.refreshedAt = new Date();
    $('stale-since').textContent = state.refreshedAt.toLocaleTimeString();
    // A load that worked clears an error it may have followed, not what an action just reported
    // (the refresh after "Cleaned up 2 …" erased it before anyone could read it).
    if ($('message').dataset.error) { show(null); }
  }

  // ---- trends ----------------------------------------------------------------------------------

  /** Draws (or redraws) the scan samples of {@code body} on the canvas {@code id}: drift ratio and open issues. */
  function renderTrend(id, body) {
    var canvas = $(id);
    var samples = body.samples || [];
    canvas.dataset.points = samples.length;
    canvas.dataset.last = samples.length ? samples[samples.length - 1].at : '';
    if (typeof Chart === 'undefined') { return; }
    var labels = samples.map(function (x) { return new Date(x.at).toLocaleString(); });
    var drift = samples.map(function (x) { return Math.round(x.drift_ratio * 1000) / 10; });
    var issues = samples.map(function (x) {
      return Object.keys(x.issues_by_type).reduce(function (n, k) { return n + x.issues_by_type[k]; }, 0);
    });
    state.charts = state.charts || {};
    var chart = state.charts[id];
    if (!chart) {
      chart = state.charts[id] = new Chart(canvas, {
        type: 'line',
        data: { labels: [], datasets: [
          { label: 'drift %', data: [], yAxisID: 'y', borderColor: '#b4481d', tension: 0.2 },
          { label: 'open issues', data: [], yAxisID: 'issues', borderColor: '#1d5fb4', tension: 0.2 }] },
        options: {
          animation: false, responsive: true, maintainAspectRatio: false,
          scales: { y: { beginAtZero: true, title: { display: true, text: 'drift %' } },
            issues: { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false },
              title: { display: true, text: 'open issues' } } }
        }
      });
    }
    chart.data.labels = labels;
    chart.data.datasets[0].data = drift;
    chart.data.datasets[1].data = issues;
    chart.update('none');
  }

  function renderOverview(body) {
    var totals = { synced: 0, out_of_sync: 0, missing: 0, error: 0, unchecked: 0 };
    var byType = {};
    fill($('tenants').tBodies[0], body.tenants.map(function (t) {
      var s = t.summary;
      Object.keys(totals).forEach(function (k) { totals[k] += s[k] || 0; });
      Object.keys(s.issues_by_type || {}).forEach(function (k) { byType[k] = (byType[k] || 0) + s.issues_by_type[k]; });
      var pick = el('input');
      pick.type = 'checkbox';
      pick.value = t.user_id;
      pick.setAttribute('aria-label', 'select ' + t.user_id);
      var link = el('a', t.user_id);
      link.href = '#/tenant/' + encodeURIComponent(t.user_id);
      var op = t.running ? progress(t.running) : el('span', '—');
      var tr = row([pick, link, el('span', s.synced, 'synced'), el('span', s.out_of_sync, 'out_of_sync'),
        el('span', s.missing, 'missing'), el('span', s.error, 'error'), el('span', s.unchecked, 'unchecked'),
        s.open_issues, t.last_scan_at ? ago(t.last_scan_at) + ' ago' : 'never', op]);
      tr.dataset.tenant = t.user_id;
      return tr;
    }));
    bars($('chart-status'), totals);
    bars($('chart-issues'), byType);
  }

  function progress(op) {
    var wrap = el('span');
    var bar = el('progress');
    bar.max = 100;
    bar.value = op.progress ? op.progress.percentage : 0;
    wrap.appendChild(el('span', op.kind + ' '));
    wrap.appendChild(bar);
    return wrap;
  }

  function bars(box, counts) {
    box.textContent = '';
    var max = Math.max.apply(null, [1].concat(Object.keys(counts).map(function (k) { return counts[k]; })));
    Object.keys(counts).forEach(function (k) {
      var line = el('div');
      line.appendChild(el('span', k, 'label'));
      var bar = el('span', '', 'bar');
      bar.style.width = Math.round(200 * counts[k] / max) + 'px';
      line.appendChild(bar);
      line.appendChild(el('span', counts[k]));
      box.appendChild(line);
    });
  }

  function renderService(s, collections) {
    var dl = $('service');
    dl.textContent = '';
    function add(k, v, cls) { var dd = el('dd', v, cls); dl.appendChild(el('dt', k)); dl.appendChild(dd); return dd; }
    function space(c) { return c.collection + ' (' + c.model + ', ' + c.dimensions + ' dimensions)'; }
    add('Nodes', (s.nodes || []).join(', '));
    add('Running operations', s.running_operations);
    add('Open ingest operations', s.open_ingest_operations);
    Object.keys(s.stores || {}).forEach(function (k) { add(k, s.stores[k].status, s.stores[k].status); });
    if (!collections || !collections.serving) { return; }
    add('Vectors served from', space(collections.serving)).id = 'collection-serving';
    if (collections.target) {
      add('Being filled', space(collections.target) + ': a change of embedding model; re-index every tenant,'
        + ' and it serves once every file is re-embedded').id = 'collection-filling';
    }
    (collections.retired || []).forEach(function (c) {
      var dd = add('Retired', space(c) + ': kept until purged ', 'retired-collection');
      dd.dataset.collection = c.collection;
      var purge = el('button', 'Purge…');
      purge.type = 'button';
      purge.addEventListener('click', function () {
        if (!confirm('Delete collection ' + c.collection + ' and every vector in it?')) { return; }
        api('DELETE', '/api/vector-collections/' + encodeURIComponent(c.collection)).then(function () {
          show('Purged collection ' + c.collection + '.');
          return loadOverview();
        }).catch(fail);
      });
      dd.appendChild(purge);
    });
  }

  function selected() {
    return Array.prototype.map.call(document.querySelectorAll('#tenants tbody input:checked'), function (i) { return i.value; });
  }

  // ---- tenant ----------------------------------------------------------------------------------

  /** The tenant's files that best match {@code query}: name (opening its content), score and the matching text. */
  function search(query) {
    var list = $('search-results');
    list.textContent = '';
    return api('POST', '/api/search', { user_id: state.tenant, query: query, limit: 10 }).then(function (answer) {
      $('search-info').textContent = answer.results.length + ' files in ' + answer.took_ms + ' ms'
        + (answer.excluded ? ' · ' + answer.excluded + ' left out (the stores disagree on them; see the issues)' : '')
        + (answer.partial ? ' · partial: ' + answer.partial : '');
      answer.results.forEach(function (r) {
        var item = el('li', null, 'search-result');
        var name = el('a', r.file_name);
        name.href = '#';
        name.dataset.fileId = r.file_id;
        name.addEventListener('click', function (e) { e.preventDefault(); openContent(r.file_id, r.file_name).catch(fail); });
        item.appendChild(name);
        item.appendChild(el('span', ' ' + r.score.toFixed(3), 'score'));
        var page = el('a', 'file page');
        page.className = 'file-page';
        page.href = '#/tenant/' + encodeURIComponent(state.tenant) + '/file/' + encodeURIComponent(r.file_id);
        item.appendChild(document.createTextNode(' · '));
        item.appendChild(page);
        item.appendChild(el('p', r.text || '', 'snippet'));
        list.appendChild(item);
      });
    });
  }

  /**
   * Shows a file's content (fetched with the token, which a plain link cannot send). A blob URL has
   * this page's origin, so a tenant's HTML or SVG opened from it could read the admin's token: only
   * inert types are shown (text other than markup always as plain text) in a tab without a way back
   * to this one (noopener); anything else is downloaded.
   */
  function openContent(fileId, fileName) {
    var path = '/api/files/' + encodeURIComponent(fileId) + '/content?user_id=' + encodeURIComponent(state.tenant);
    return fetch(path, { headers: state.token ? { Authorization: 'Bearer ' + state.token } : {} }).then(function (r) {
      if (!r.ok) { throw new Error('the file could not be read (status ' + r.status + ')'); }
      return r.blob();
    }).then(function (blob) {
      var shown = inertType(blob.type);
      if (!shown) {
        saveBlob(blob, fileName || fileId);
        return;
      }
      var url = URL.createObjectURL(new Blob([blob], { type: shown }));
      window.open(url, '_blank', 'noopener');
      setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
    });
  }

  /** The type to show {@code type} as in a tab of this origin, or null when it must be downloaded. */
  function inertType(type) {
    var base = (type || '').split(';')[0].trim().toLowerCase();
    var charset = /;\s*charset="?([A-Za-z0-9._-]+)"?/i.exec(type || '');
    var markup = ['text/html', 'text/xml', 'text/xsl', 'text/xhtml'].indexOf(base) >= 0;
    if ((base.indexOf('text/') === 0 && !markup) || base === 'application/json' || base === 'application/x-ndjson') {
      return 'text/plain' + (charset ? '; charset=' + charset[1] : '');
    }
    if (['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif'].indexOf(base) >= 0) {
      return base;
    }
    return null;
  }

  /** Saves {@code blob} as a download called {@code name}. */
  function saveBlob(blob, name) {
    var a = el('a');
    a.href = URL.createObjectURL(blob);
    a.download = name;
    a.hidden = true;
    document.body.appendChild(a);
    a.click();
    // Revoked once the browser has taken the download (some revoke too early otherwise).
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 10000);
  }

  /** {@code params}: the filters the address carries ({@code status}, {@code issue}), so they survive a refresh. */
  function openTenant(tenant, params) {
    $('erase-result').hidden = true;
    state.statusFilter = (params && params.get('status')) || '';
    state.issueFilter = (params && params.get('issue')) || '';
    $('status-filter').value = state.statusFilter;
    state.view = 'tenant';
    $('file').hidden = true;
    state.tenant = tenant;
    state.files = [];
    state.cursor = null;
    $('overview').hidden = true;
    $('tenant').hidden = false;
    $('tenant-name').textContent = tenant;
    refresh();
  }

  function loadTenant() {
    var t = encodeURIComponent(state.tenant);
    return Promise.all([
      api('GET', '/api/sync/status/' + t + '?limit=50'),
      api('GET', '/api/v1/sync/operations?tenant_id=' + t + '&limit=10'),
      api('GET', '/api/sync/quarantine?user_id=' + t),
      api('GET', '/api/sync/trends?limit=100&user_id=' + t)
    ]).then(function (r) {
      var status = r[0];
      state.files = status.files;
      state.cursor = status.next_cursor;
      state.issues = status.issues || [];
      renderSummary(status);
      renderIssues();
      renderFiles();
      renderHistory(r[1]);
      renderQuarantine(r[2]);
      renderTrend('trend-tenant', r[3]);
      refreshed();
      return refreshOperation();
    });
  }

  function renderSummary(status) {
    var box = $('summary');
    box.textContent = '';
    ['synced', 'out_of_sync', 'missing', 'error', 'unchecked', 'open_issues'].forEach(function (k) {
      box.appendChild(el('span', k.replace('_', ' ') + ': ' + status.summary[k], k));
    });
    box.appendChild(el('span', 'last scan: ' + (status.last_scan_at ? ago(status.last_scan_at) + ' ago' : 'never')));
  }

  function renderIssues() {
    var filter = $('issue-filter');
    var types = {};
    state.issues.forEach(function (i) { types[i.type] = true; });
    var current = state.issueFilter || '';
    if (current) { types[current] = true; }
    filter.textContent = '';
    filter.appendChild(el('option', 'all')).value = '';
    Object.keys(types).sort().forEach(function (t) { filter.appendChild(el('option', t)).value = t; });
    filter.value = types[current] ? current : '';
    fill($('issues').tBodies[0], state.issues.filter(function (i) { return !filter.value || i.type === filter.value; })
      .map(function (i) {
        var tr = row([i.type, i.file_name || i.file_id, i.description, i.suggested_action]);
        tr.dataset.file = i.file_id;
        tr.dataset.type = i.type;
        return tr;
      }));
  }

  /** Puts the tenant page's filters in the address (without a new history entry or a reload). */
  function saveFilters() {
    var q = new URLSearchParams();
    if (state.statusFilter) { q.set('status', state.statusFilter); }
    if (state.issueFilter) { q.set('issue', state.issueFilter); }
    var query = q.toString();
    history.replaceState(null, '', '#/tenant/' + encodeURIComponent(state.tenant) + (query ? '?' + query : ''));
  }

  function renderFiles() {
    var f = $('status-filter').value;
    fill($('files').tBodies[0], state.files.filter(function (x) { return !f || x.status === f; }).map(function (x) {
      var stores = el('span');
      [['mongodb', 'MongoDB'], ['s3', 'S3'], ['qdrant', 'Qdrant']].forEach(function (store) {
        // present, missing, unchecked (no scan has looked yet) or none (no chunks to hold)
        var seen = x.stores[store[0]];
        var badge = el('span', store[1], 'badge store ' + (seen === 'present' ? 'yes' : seen === 'missing' ? 'no' : 'unknown'));
        badge.title = store[1] + ': ' + seen;
        stores.appendChild(badge);
      });
      var link = el('a', x.name);
      link.href = '#/tenant/' + encodeURIComponent(state.tenant) + '/file/' + encodeURIComponent(x.id);
      var tr = row([link, el('span', x.status, x.status), stores, x.size, x.chunks, x.checked_at ? ago(x.checked_at) + ' ago' : '—']);
      tr.dataset.file = x.id;
      return tr;
    }));
    $('more-files').hidden = !state.cursor;
  }

  function moreFiles() {
    api('GET', '/api/sync/status/' + encodeURIComponent(state.tenant) + '?limit=50&cursor=' + encodeURIComponent(state.cursor))
      .then(function (page) {
        state.files = state.files.concat(page.files);
        state.cursor = page.next_cursor;
        renderFiles();
      }).catch(fail);
  }

  function renderHistory(body) {
    fill($('history').tBodies[0], (body.operations || []).map(function (o) {
      return row([o.kind, el('span', o.status, o.status === 'completed' ? 'synced' : o.status === 'running' ? '' : 'error'),
        o.started_at, o.files_processed, o.error_message]);
    }));
  }

  function renderQuarantine(body) {
    fill($('quarantine').tBodies[0], (body.items || []).map(function (q) {
      var restore = el('button', 'Restore');
      restore.type = 'button';
      restore.addEventListener('click', function () {
        if (!confirm('Put ' + q.original_key + ' back?')) { return; }
        api('POST', '/api/sync/quarantine/' + encodeURIComponent(q.id) + '/restore?user_id=' + encodeURIComponent(state.tenant))
          .then(function () { show('Restored ' + q.original_key + '.'); refresh(); }).catch(fail);
      });
      return row([q.file_id, q.reason, q.size, ago(q.quarantined_at) + ' ago', restore]);
    }));
  }

  function refreshOperation() {
    return api('GET', '/api/v1/sync/status?tenant_id=' + encodeURIComponent(state.tenant)).then(function (body) {
      var op = body.latest_sync;
      var running = op && op.status === 'running';
      state.running = running ? op : null;
      $('operation').hidden = !running;
      $('cancel').hidden = !running;
      if (running) {
        $('op-kind').textContent = op.kind;
        $('op-heartbeat').textContent = ago(op.heartbeat_at);
        $('op-expected').textContent = op.expected_duration_seconds + ' s';
        // The stored record lags the progress events by up to a heartbeat: never step back to it.
        if (!state.shown || state.shown.id !== op.id || op.progress.percentage >= state.shown.percentage) {
          showProgress(op.id, op.progress.stage, op.progress.percentage, op.progress.current_file,
            op.progress.total_files, op.progress.rate, op.progress.eta_seconds, op.progress.current_partition,
            op.progress.total_partitions, op.progress.files_skipped);
        }
      } else {
        state.shown = null;
      }
      // While an operation runs, follow it every 2 s too (heartbeat age; any progress event missed).
      clearTimeout(state.opTimer);
      if (running && state.view === 'tenant') {
        state.opTimer = setTimeout(function () { refreshOperation().catch(fail); }, 2000);
      }
    });
  }

  /** {@code rate} (chunks a second) and {@code eta} (seconds left): given by a re-index, absent otherwise. */
  // skipped: of current, the files a re-index left as they were (its result names them).
  function showProgress(opId, stage, percentage, current, total, rate, eta, partitionsDone, partitions, skipped) {
    state.shown = { id: opId, percentage: percentage };
    $('op-stage').textContent = stage + ' ' + Math.round(percentage) + '%';
    $('op-files').textContent = current + ' of ' + total + ' files'
      + (typeof skipped === 'number' && skipped > 0 ? ' (' + skipped + ' skipped)' : '')
      + (typeof partitions === 'number' ? ' · partition ' + partitionsDone + ' of ' + partitions : '')
      + (typeof rate === 'number' ? ' · ' + rate.toFixed(1) + ' chunks/s' : '')
      + (typeof eta === 'number' ? ' · about ' + eta + ' s left' : '');
    $('op-progress').value = percentage;
  }

  // ---- actions ---------------------------------------------------------------------------------

  function analyze(tenants) {
    return Promise.all(tenants.map(function (t) {
      return api('POST', '/api/sync/analyze', t === null ? { wait: false } : { user_id: t, wait: false });
    })).then(function () { show('Analysis started.'); scheduleRefresh(); });
  }

  /**
   * Erases the tenant from the three stores (DELETE /api/tenants/{t}) once its name is typed back,
   * then follows the erasure until it is done and shows what was removed.
   */
  function eraseTenant(tenant) {
    var typed = prompt('This removes every file, blob, vector and record of ' + tenant
      + ' for good. Type the tenant\'s name to erase it:');
    if (typed === null) { return Promise.resolve(); }
    // Said in a line of its own: the page's refreshes (the erasure's events cause some) clear #message.
    var said = $('erase-result');
    function say(text) { said.textContent = text; said.hidden = false; }
    if (typed !== tenant) { say('Not erased: the name typed was not ' + tenant + '.'); return Promise.resolve(); }
    var path = '/api/tenants/' + encodeURIComponent(tenant);
    return api('DELETE', path).then(function () {
      say('Erasing ' + tenant + '…');
      return new Promise(function (resolve, reject) {
        (function poll() {
          api('GET', path).then(function (e) {
            if (e.state !== 'erased') { setTimeout(poll, 500); return; }
            var records = Object.keys(e.result.records || {}).reduce(function (n, k) { return n + e.result.records[k]; }, 0);
            say('Erased ' + tenant + ': ' + e.result.blobs + ' blobs and ' + records + ' records removed'
              + (e.result.verified ? ', nothing left in any store.' : '.'));
            resolve();
          }).catch(reject);
        })();
      });
    });
  }

  // ---- file page -------------------------------------------------------------------------------

  function openFile(tenant, id) {
    state.view = 'file';
    state.tenant = tenant;
    state.file = id;
    $('overview').hidden = true;
    $('tenant').hidden = true;
    $('file').hidden = false;
    $('file-tenant').textContent = tenant;
    $('file-tenant').href = '#/tenant/' + encodeURIComponent(tenant);
    refresh();
  }

  function loadFile() {
    var base = '/api/files/' + encodeURIComponent(state.file);
    var tenant = '?user_id=' + encodeURIComponent(state.tenant);
    return Promise.all([api('GET', base + '/story' + tenant), api('GET', base + '/versions' + tenant)])
      .then(function (r) { renderFile(r[0]); renderVersions(r[1], base, tenant); });
  }

  /** The content versions, newest first; a kept version's bytes download with the page's token. */
  function renderVersions(body, base, tenant) {
    fill($('file-versions').tBodies[0], body.versions.map(function (v) {
      var get = el('button', 'Download', 'small');
      get.disabled = !v.content_available;
      get.title = v.content_available ? 'the bytes of version ' + v.version : 'no longer kept';
      get.addEventListener('click', function () {
        var init = { headers: state.token ? { Authorization: 'Bearer ' + state.token } : {} };
        fetch(base + '/versions/' + v.version + '/content' + tenant, init)
          .then(function (r) { if (!r.ok) { throw new Error('HTTP ' + r.status); } return r.blob(); })
          .then(function (blob) { saveBlob(blob, 'v' + v.version + '-' + $('file-name').textContent); })
          .catch(function (e) { show('Download failed: ' + e.message); });
      });
      return row([v.version + (v.current ? ' (current)' : ''), v.size + ' bytes', v.sha256.substring(0, 12),
        v.created_at || '', v.by || '', get]);
    }));
  }

  function renderFile(story) {
    var f = story.file, s = story.stores;
    $('file-name').textContent = f.name;
    $('file-summary').textContent = 'version ' + f.version + ' · ' + f.size + ' bytes · ' + f.content_type
      + ' · indexing ' + f.indexing + ' · last verdict ' + (s.mongodb.verdict || 'unchecked');
    var holds = function (yes) { return el('span', yes ? 'present' : 'missing', 'badge store ' + (yes ? 'yes' : 'no')); };
    fill($('file-stores').tBodies[0], [
      row(['MongoDB', holds(s.mongodb.present), 'record ' + s.mongodb.status + ', version ' + s.mongodb.version
        + ', ' + s.mongodb.size + ' bytes, sha256 ' + s.mongodb.sha256]),
      row(['S3', holds(s.s3.present), s.s3.present ? s.s3.size + ' bytes, sha256 ' + s.s3.sha256 + ', ETag ' + s.s3.etag
        + (s.s3.matches_record ? '' : ' (differs from the record)') : 'no object at its key']),
      row(['Qdrant', holds(s.qdrant.present || s.qdrant.expected_points === 0), s.qdrant.points + ' of '
        + s.qdrant.expected_points + ' points, model ' + (s.qdrant.models.join(', ') || '—')])
    ]);
    fill($('file-issues').tBodies[0], story.issues.map(function (i) {
      return row([i.type, i.description, i.suggested_action, i.first_seen ? ago(i.first_seen) + ' ago' : '']);
    }));
    fill($('file-timeline').tBodies[0], story.timeline.map(function (t) {
      return row([t.at, t.source, t.type + (t.unreadable ? ' (its field ' + t.unreadable + ' holds a value trisync never'
        + ' writes; correct or remove it in MongoDB)' : '') + (t.by ? ' by ' + t.by : '') + (t.reason ? ' (' + t.reason + ')' : ''),
        t.operation_id || '']);
    }));
    $('file-repair').disabled = story.issues.length === 0;
  }

  function preview(tenants, fileIds) {
    var narrowed = function (body) { if (fileIds) { body.file_ids = fileIds; } return body; };
    return Promise.all(tenants.map(function (t) { return api('POST', '/api/sync/fix', narrowed({ user_id: t })); }))
      .then(function (plans) {
        var actions = [];
        plans.forEach(function (p) { actions = actions.concat(p.actions); });
        $('plan-summary').textContent = actions.length === 0 ? 'Nothing to repair: no open issues.'
          : actions.length + ' action(s) on ' + tenants.join(', ') + '. Nothing has been changed yet.';
        fill($('plan-actions').tBodies[0], actions.map(function (a) {
          return row([a.action, a.issues.join(', '), a.file_name || a.file_id, a.store, a.undo]);
        }));
        $('apply').disabled = actions.length === 0;
        var dialog = $('plan');
        dialog.onclose = function () {
          if (dialog.returnValue !== 'apply') { return; }
          Promise.all(tenants.map(function (t) { return api('POST', '/api/sync/fix', narrowed({ user_id: t, dry_run: false })); }))
            .then(function () { show('Repair started.'); scheduleRefresh(); }).catch(fail);
        };
        dialog.returnValue = '';
        dialog.showModal();
      });
  }

  function wire() {
    $('signin-form').addEventListener('submit', function (e) {
      e.preventDefault();
      signIn($('token').value.trim());
    });
    $('signout').addEventListener('click', function () { signOut(); });
    $('analyze').addEventListener('click', function () { analyze([state.tenant]).catch(fail); });
    $('search-form').addEventListener('submit', function (e) {
      e.preventDefault();
      search($('search-query').value).catch(fail);
    });
    $('fix').addEventListener('click', function () { preview([state.tenant]).catch(fail); });
    $('file-repair').addEventListener('click', function () { preview([state.tenant], [state.file]).catch(fail); });
    $('file-open').addEventListener('click', function () {
      openContent(state.file, $('file-name').textContent).catch(fail);
    });
    $('cancel').addEventListener('click', function () {
      if (!state.running || !confirm('Cancel the running ' + state.running.kind + '?')) { return; }
      api('POST', '/api/v1/sync/' + encodeURIComponent(state.running.id) + '/cancel')
        .then(function () { show('Cancelled.'); refresh(); }).catch(fail);
    });
    $('analyze-all').addEventListener('click', function () {
      if (confirm('Analyze every tenant?')) { analyze([null]).catch(fail); }
    });
    $('analyze-selected').addEventListener('click', function () {
      var t = selected();
      if (t.length && confirm('Analyze ' + t.length + ' tenant(s)?')) { analyze(t).catch(fail); }
    });
    $('fix-selected').addEventListener('click', function () {
      var t = selected();
      if (t.length) { preview(t).catch(fail); }
    });
    $('cleanup').addEventListener('click', function () {
      if (!confirm('Fail every stuck sync operation now?')) { return; }
      api('POST', '/api/v1/sync/cleanup').then(function (r) {
        show('Cleaned up ' + r.cleaned + ' stuck sync operation(s).');
        refresh();
      }).catch(fail);
    });
    $('more-files').addEventListener('click', moreFiles);
    $('erase').addEventListener('click', function () { eraseTenant(state.tenant).catch(fail); });
    $('status-filter').addEventListener('change', function () {
      state.statusFilter = $('status-filter').value;
      saveFilters();
      renderFiles();
    });
    $('issue-filter').addEventListener('change', function () {
      state.issueFilter = $('issue-filter').value;
      saveFilters();
      renderIssues();
    });
    $('event-tenant').addEventListener('input', renderEvents);
    $('event-type').addEventListener('input', renderEvents);
    window.addEventListener('hashchange', route);
  }

  wire();
  // A sign-in address (the node logs one at start on the embedded default) carries the token in its
  // fragment: take it, then drop it from the address bar and the history.
  var given = location.hash.match(/^#token=([^&]+)/);
  if (given) {
    history.replaceState(null, '', location.pathname + location.search);
    sessionStorage.setItem('trisync.token', decodeURIComponent(given[1]));
  }
  var saved = sessionStorage.getItem('trisync.token');
  if (saved) {
    signIn(saved);
  } else {
    fetch('/health').then(function (r) { return r.json(); }).then(function (h) {
      if (h.auth === 'off') { openAccess(); } else { signOut(); }
    }).catch(function () { signOut(); });
  }
  window.trisyncAdmin = state;
})();
