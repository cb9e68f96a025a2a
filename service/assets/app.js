// app.js - makes the inbox's lists live (Server-Sent Events). Pages work
// without it. Text from procedures is only ever set with textContent,
// never parsed as HTML; the page's Content-Security-Policy allows this
// file and nothing inline.
'use strict';
(function () {
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function when(ms) {
    const t = new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
    const e = el('time', null, t);
    e.setAttribute('datetime', t);
    return e;
  }
  function shorten(s, n) {
    const chars = Array.from(s || '');
    return chars.length > n ? chars.slice(0, n).join('') + '… (open it for the whole request)' : chars.join('');
  }
  function pendingItem(q) {
    const li = el('li');
    const a = el('a');
    a.href = '/ui/approvals/' + encodeURIComponent(q.request_id);
    a.append(el('span', 'kind', q.kind), ' ', el('span', 'message', shorten(q.message, 200)));
    const meta = el('span', 'meta', 'run ' + q.run_id + ', asked ');
    meta.append(when(q.created_ms));
    if (q.timed_out) meta.append(' ', el('strong', null, 'timed out: the default applies at the next resume'));
    li.append(a, ' ', meta);
    return li;
  }
  const page = document.body.dataset.page;
  if (page === 'inbox') {
    const list = document.getElementById('pending');
    const source = new EventSource('/v1/approvals/events');
    source.addEventListener('approvals', function (ev) {
      const items = JSON.parse(ev.data);
      list.replaceChildren.apply(list, items.map(pendingItem));
      document.getElementById('pending-count').textContent = String(items.length);
      document.getElementById('pending-empty').hidden = items.length > 0;
      document.body.dataset.live = 'yes';
    });
  }
  if (page === 'request') {
    const status = document.getElementById('run-status');
    const events = document.getElementById('run-events');
    if (status) {
      const source = new EventSource('/v1/runs/' + encodeURIComponent(status.dataset.run) + '/events');
      // the events the page was rendered with are not shown twice
      const seen = new Set(Array.from(events.querySelectorAll('li[data-position]'), (li) => Number(li.dataset.position)));
      function add(name) {
        source.addEventListener(name, function (ev) {
          const d = JSON.parse(ev.data);
          if (seen.has(d.position)) return;
          seen.add(d.position);
          const li = el('li');
          li.dataset.position = String(d.position);
          li.append(el('code', null, d.method), ' ', shorten(JSON.stringify(d.params), 300));
          events.append(li);
        });
      }
      ['llm', 'tool_call', 'human_request', 'effect'].forEach(add);
      source.addEventListener('state', function (ev) {
        status.textContent = JSON.parse(ev.data).status;
        document.body.dataset.live = 'yes';
      });
      source.addEventListener('result', function () { source.close(); });
    }
  }
})();
