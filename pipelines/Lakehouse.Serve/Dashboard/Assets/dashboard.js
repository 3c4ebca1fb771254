// The dashboard of `lakehouse serve`: draws the JSON of /api/* (gold and silver tables read through DuckDB). Every value
// goes into the page as text (textContent, SVG attributes), never as HTML. It asks /api/versions every few seconds and
// reloads only the panels whose tables have a new Delta version.
'use strict';

(() => {
  const SVG = 'http://www.w3.org/2000/svg';
  const count = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  const one = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
  const two = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

  // How a column is shown, by its name in the tables (DESIGN.md names).
  const isNumber = v => typeof v === 'number';
  const formats = {
    count: v => (isNumber(v) ? count.format(v) : String(v)),
    ms: v => (isNumber(v) ? one.format(v) : String(v)),
    number: v => (isNumber(v) ? two.format(v) : String(v)),
    rate: v => (isNumber(v) ? one.format(v * 100) + ' %' : String(v)),
    time: v => String(v).replace('T', ' ').replace(/Z$/, ''),
    bool: v => (v ? 'yes' : 'no'),
    text: v => String(v),
  };
  const numeric = new Set(['count', 'ms', 'number', 'rate']);

  function formatOf(column) {
    if (/_ms$/.test(column)) return 'ms';
    if (column === 'error_rate') return 'rate';
    if (/^(events|sessions|pages|late_events|alerts|alerts_new|rows_\w+|duplicates_removed|dates_recomputed|silver_version_\w+)$/.test(column)) return 'count';
    if (/^(value|threshold|value_\w+)$/.test(column)) return 'number';
    if (/^(window_|session_|started_at|finished_at|detected_at|watermark|latest_detected_at)/.test(column)) return 'time';
    if (column === 'is_final') return 'bool';
    return 'text';
  }

  function show(value, format) {
    return value === null || value === undefined ? '–' : formats[format](value);
  }

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function svg(tag, attrs) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    return e;
  }

  async function getJson(url) {
    const response = await fetch(url, { cache: 'no-store' });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new Error((body && (body.detail || body.title)) || `${url} answered ${response.status}`);
    return body;
  }

  function block(panel, name) {
    const b = document.querySelector(`#panel-${panel} [data-block="${name}"]`);
    return { msg: b.querySelector('.msg'), content: b.querySelector('.content'), chart: b.querySelector('.chart'), root: b };
  }

  // Shows a section's state; true when it has rows to draw.
  function sectionState(b, section, emptyText) {
    b.content.replaceChildren();
    if (b.chart) b.chart.replaceChildren();
    b.root.dataset.status = section.status;
    b.root.dataset.version = section.version === null ? '' : String(section.version);
    b.msg.className = 'msg';
    b.msg.hidden = false;
    if (section.status === 'no_data') {
      b.msg.classList.add('nodata');
      b.msg.textContent = `no data yet (${section.table})`;
      b.msg.title = section.message || '';
      return false;
    }
    if (section.status === 'error') {
      b.msg.classList.add('error');
      b.msg.textContent = section.message;
      return false;
    }
    if (section.rows.length === 0) {
      b.msg.textContent = emptyText;
      return false;
    }
    b.msg.hidden = true;
    return true;
  }

  function failed(b, error) {
    b.content.replaceChildren();
    b.msg.hidden = false;
    b.msg.className = 'msg error';
    b.msg.textContent = error.message;
  }

  // columns: [{ key, label, format?, cls? }]; rowKey: the row's data-key.
  function table(columns, rows, rowKey, rowClass) {
    const t = el('table');
    const head = el('tr');
    for (const c of columns) {
      const format = c.format || formatOf(c.key);
      head.append(el('th', numeric.has(format) ? { class: 'num' } : {}, c.label));
    }
    const thead = el('thead');
    thead.append(head);
    t.append(thead);
    const body = el('tbody');
    for (const row of rows) {
      const tr = el('tr', rowKey ? { 'data-key': String(row[rowKey]) } : {});
      if (rowClass && rowClass(row)) tr.className = rowClass(row);
      for (const c of columns) {
        if (c.draw) {
          const td = el('td', { 'data-col': c.key, class: c.cls || '' });
          td.append(c.draw(row));
          tr.append(td);
          continue;
        }
        const format = c.format || formatOf(c.key);
        const cls = [numeric.has(format) ? 'num' : '', c.cls || ''].join(' ').trim();
        tr.append(el('td', Object.assign({ 'data-col': c.key }, cls ? { class: cls } : {}), show(row[c.key], format)));
      }
      body.append(tr);
    }
    t.append(body);
    return t;
  }

  function bar(value, max) {
    const width = 120;
    const s = svg('svg', { width, height: 10, viewBox: `0 0 ${width} 10`, role: 'img' });
    s.append(svg('rect', { class: 'bar-back', x: 0, y: 0, width, height: 10 }));
    const w = isNumber(value) && max > 0 ? Math.max(1, Math.round((value / max) * width)) : 0;
    s.append(svg('rect', { class: 'bar-fill', x: 0, y: 0, width: w, height: 10 }));
    return s;
  }

  // ---- panels -------------------------------------------------------------------------------------------------------

  const dateSelect = document.getElementById('pages-date');
  const windowsSelect = document.getElementById('windows-table');

  // The day the user picked; until then the panel follows the latest day, so a new day shows up by itself.
  let pickedDate = '';

  async function loadPages(current) {
    const b = block('pages', 'pages');
    const query = pickedDate ? `?date=${encodeURIComponent(pickedDate)}` : '';
    const data = await getJson('/api/pages' + query);
    if (!current()) return;
    dateSelect.replaceChildren(...data.dates.map(d => el('option', { value: d }, d)));
    if (data.date && !data.dates.includes(data.date)) dateSelect.prepend(el('option', { value: data.date }, data.date));
    dateSelect.value = data.date || '';
    if (!sectionState(b, data.pages, `no pages on ${data.date}`)) return;
    const max = Math.max(...data.pages.rows.map(r => (isNumber(r.tti_p95_ms) ? r.tti_p95_ms : 0)));
    b.content.append(table([
      { key: 'page_url', label: 'Page', cls: 'url' },
      { key: 'events', label: 'Events' },
      { key: 'sessions', label: 'Sessions' },
      { key: 'tti_avg_ms', label: 'TTI avg' },
      { key: 'tti_p50_ms', label: 'TTI p50' },
      { key: 'tti_p95_ms', label: 'TTI p95' },
      { key: 'tti_p95_bar', label: '', cls: 'bar', draw: r => bar(r.tti_p95_ms, max) },
      { key: 'ttar_avg_ms', label: 'TTAR avg' },
      { key: 'ttar_p50_ms', label: 'TTAR p50' },
      { key: 'ttar_p95_ms', label: 'TTAR p95' },
      { key: 'error_rate', label: 'Errors' },
    ], data.pages.rows, 'page_url'));
  }

  function trendChart(rows) {
    const width = 900, height = 220, left = 56, right = 84, top = 12, bottom = 28;
    const s = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'events and average TTI per day' });
    const plotW = width - left - right, plotH = height - top - bottom;
    const maxEvents = Math.max(1, ...rows.map(r => r.events));
    const ttis = rows.map(r => (isNumber(r.tti_avg_ms) ? r.tti_avg_ms : 0));
    const maxTti = Math.max(1, ...ttis);
    const step = plotW / rows.length;
    s.append(svg('line', { class: 'axis', x1: left, y1: top + plotH, x2: left + plotW, y2: top + plotH }));
    const points = [];
    rows.forEach((r, i) => {
      const h = (r.events / maxEvents) * plotH;
      s.append(svg('rect', { class: 'events', x: left + i * step + step * 0.15, y: top + plotH - h, width: step * 0.7, height: h }));
      const x = left + i * step + step / 2, y = top + plotH - (ttis[i] / maxTti) * plotH;
      points.push(`${x.toFixed(1)},${y.toFixed(1)}`);
      s.append(svg('circle', { class: 'dot', cx: x.toFixed(1), cy: y.toFixed(1), r: 3 }));
      if (rows.length <= 14 || i % Math.ceil(rows.length / 14) === 0) {
        const label = svg('text', { x: x.toFixed(1), y: height - 8, 'text-anchor': 'middle' });
        label.textContent = r.event_date.slice(5);
        s.append(label);
      }
    });
    s.append(svg('polyline', { class: 'tti', points: points.join(' ') }));
    const axis = (x, anchor, text) => {
      const t = svg('text', { x, y: top + 10, 'text-anchor': anchor });
      t.textContent = text;
      s.append(t);
    };
    axis(left - 6, 'end', count.format(maxEvents));
    axis(left + plotW + 6, 'start', one.format(maxTti) + ' ms');
    return s;
  }

  async function loadTrend(current) {
    const b = block('trend', 'trend');
    const data = await getJson('/api/trend?days=30');
    if (!current()) return;
    if (!sectionState(b, data.trend, 'no days yet')) return;
    b.chart.append(trendChart(data.trend.rows));
    b.content.append(table([
      { key: 'event_date', label: 'Day' },
      { key: 'events', label: 'Events' },
      { key: 'pages', label: 'Pages' },
      { key: 'tti_avg_ms', label: 'TTI avg' },
      { key: 'tti_p95_max_ms', label: 'Highest page TTI p95' },
      { key: 'error_rate', label: 'Errors' },
    ], data.trend.rows.slice().reverse(), 'event_date'));
  }

  async function loadWindows(current) {
    const b = block('windows', 'windows');
    const data = await getJson(`/api/windows?table=${encodeURIComponent(windowsSelect.value)}&limit=60`);
    if (!current()) return;
    if (!sectionState(b, data.windows, `no windows in ${data.windows.table} yet`)) return;
    const columns = Object.keys(data.windows.rows[0]).map(k => ({ key: k, label: k.replace(/_/g, ' ') }));
    b.content.append(table(columns, data.windows.rows, data.keyColumn));
  }

  async function loadAlerts(current) {
    const data = await getJson('/api/alerts?limit=50');
    if (!current()) return;
    const counts = block('alerts', 'counts');
    if (sectionState(counts, data.counts, 'no alerts')) {
      for (const r of data.counts.rows) {
        const chip = el('span', { class: 'chip', 'data-rule': r.rule }, r.rule);
        chip.append(el('b', {}, count.format(r.alerts)));
        counts.content.append(chip);
      }
    }
    const alerts = block('alerts', 'alerts');
    if (!sectionState(alerts, data.alerts, 'no alerts')) {
      if (data.alerts.status === 'ok') alerts.msg.hidden = true; // the count block already says "no alerts"
      return;
    }
    alerts.content.append(table([
      { key: 'detected_at', label: 'Detected' },
      { key: 'rule', label: 'Rule' },
      { key: 'key', label: 'Key', cls: 'url' },
      { key: 'window_start', label: 'Window start' },
      { key: 'window_end', label: 'Window end' },
      { key: 'value', label: 'Value' },
      { key: 'threshold', label: 'Threshold' },
      { key: 'message', label: 'Message', cls: 'wrap' },
    ], data.alerts.rows, 'alert_id'));
  }

  async function loadRuns(current) {
    const data = await getJson('/api/runs?limit=20');
    if (!current()) return;
    const bad = r => (r.status === 'failed' ? 'bad' : '');
    const runs = block('runs', 'runs');
    if (sectionState(runs, data.runs, 'no gold runs yet')) {
      runs.content.append(table([
        { key: 'started_at', label: 'Started' },
        { key: 'dataset', label: 'Dataset' },
        { key: 'kind', label: 'Kind' },
        { key: 'status', label: 'Status' },
        { key: 'silver_version_from', label: 'Silver from' },
        { key: 'silver_version_to', label: 'Silver to' },
        { key: 'dates_recomputed', label: 'Days' },
        { key: 'rows_in', label: 'Rows in' },
        { key: 'rows_written', label: 'Rows written' },
        { key: 'late_events', label: 'Late' },
        { key: 'alerts_new', label: 'New alerts' },
        { key: 'watermark', label: 'Watermark' },
        { key: 'message', label: 'Message', cls: 'wrap' },
      ], data.runs.rows, 'run_id', bad));
    }
    const quality = block('runs', 'quality');
    if (sectionState(quality, data.quality, 'no silver runs yet')) {
      quality.content.append(table([
        { key: 'started_at', label: 'Started' },
        { key: 'dataset', label: 'Dataset' },
        { key: 'mode', label: 'Mode' },
        { key: 'status', label: 'Status' },
        { key: 'rows_in', label: 'Rows in' },
        { key: 'rows_out', label: 'Rows out' },
        { key: 'rows_quarantined', label: 'Quarantined' },
        { key: 'duplicates_removed', label: 'Duplicates' },
        { key: 'rows_warned', label: 'Warned' },
        { key: 'rules_failed', label: 'Rules that failed rows', cls: 'wrap' },
      ], data.quality.rows, 'run_id', bad));
    }
  }

  // ---- refresh ------------------------------------------------------------------------------------------------------

  // Each panel: the tables it shows (by /api/versions label) and how it loads.
  const panels = {
    pages: { tables: () => ['gold.page_performance_daily'], extra: () => pickedDate, load: loadPages, blocks: ['pages'] },
    trend: { tables: () => ['gold.page_performance_daily'], extra: () => '', load: loadTrend, blocks: ['trend'] },
    windows: { tables: () => ['gold.' + windowsSelect.value], extra: () => windowsSelect.value, load: loadWindows, blocks: ['windows'] },
    alerts: { tables: () => ['gold.alerts'], extra: () => '', load: loadAlerts, blocks: ['alerts', 'counts'] },
    runs: { tables: () => ['gold._runs', 'silver._quality'], extra: () => '', load: loadRuns, blocks: ['runs', 'quality'] },
  };
  const shown = {};
  // Each panel's latest load: an answer to an earlier one (a refresh round's, when the user picked another day or table while it
  // was on its way) is dropped, so it neither draws over the newer one nor marks the panel as showing the current versions.
  const latestLoad = {};
  let refreshMs = 5000;
  let versions = null;

  const signature = (name, tables) => panels[name].tables().map(t => JSON.stringify(tables[t] || null)).join('|') + '|' + panels[name].extra();

  async function load(name) {
    const ticket = (latestLoad[name] = (latestLoad[name] || 0) + 1);
    const current = () => latestLoad[name] === ticket;
    try {
      await panels[name].load(current);
      if (current() && versions) shown[name] = signature(name, versions);
    } catch (error) {
      if (!current()) return;
      delete shown[name]; // tried again on the next round
      failed(block(name, panels[name].blocks[0]), error);
    }
  }

  function setStatus(text, isError) {
    const status = document.getElementById('status');
    status.textContent = text;
    status.classList.toggle('error', !!isError);
  }

  async function round() {
    try {
      const answer = await getJson('/api/versions');
      versions = answer.tables;
      refreshMs = Math.max(1000, answer.refreshSeconds * 1000);
      const changed = Object.keys(panels).filter(name => shown[name] !== signature(name, versions));
      await Promise.all(changed.map(load));
      const time = new Date().toISOString().slice(11, 19);
      setStatus(`updated ${time} UTC · checks for new table versions every ${refreshMs / 1000} s`);
    } catch (error) {
      setStatus(`cannot reach the server: ${error.message}; trying again`, true);
    }
    document.body.dataset.state = 'ready';
    setTimeout(round, refreshMs);
  }

  dateSelect.addEventListener('change', () => {
    pickedDate = dateSelect.value;
    load('pages');
  });
  windowsSelect.addEventListener('change', () => load('windows'));
  round();
})();
