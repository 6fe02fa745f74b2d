// Callbacks handed to the consultants (outbound.callbacks_to: consultants):
// the list of due callbacks (phones masked until taken), "Biorę" (the
// compliance gate decides; the full number and the case follow), the
// outcome of the consultant's call, or "Oddaj" to put it back.
'use strict';
(function () {
  const root = document.getElementById('callbacks');
  if (!root) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const me = document.querySelector('meta[name="console-user"]').content;
  const $ = (id) => document.getElementById(id);
  const REFRESH_MS = 10000;

  const OUTCOMES = {
    'answered-right-party': 'rozmowa z dłużnikiem', 'wrong-party': 'inna osoba', 'no-answer': 'nie odebrano',
    busy: 'zajęte', failed: 'nieudane', 'refused-by-gate': 'wstrzymane przez reguły',
  };
  const REPORTED = {
    'right-party': 'Zapisano: rozmowa z dłużnikiem.', 'wrong-party': 'Zapisano: odebrała inna osoba.',
    'no-answer': 'Zapisano: nie odebrano — kolejna próba zostanie zaplanowana.', busy: 'Zapisano: zajęte — kolejna próba zostanie zaplanowana.',
  };
  const RULES = {
    calling_window: 'poza godzinami dzwonienia', public_holiday: 'dzień ustawowo wolny od pracy',
    weekly_cap: 'wyczerpany tygodniowy limit prób kontaktu', do_not_call: 'numer oznaczony „nie dzwonić”',
    call_in_progress: 'trwa inne połączenie z tym dłużnikiem', invalid: 'brak poprawnego numeru telefonu',
  };

  const st = { tasks: [], current: null, busy: false };
  window.hotlineCallbacks = st; // read by the end-to-end tests

  async function api(method, path, body) {
    const res = await fetch(path, {
      method, credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status === 401) { location.href = '/console/login'; throw new Error('login required'); }
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      const err = new Error(data.error || data.message || res.statusText);
      Object.assign(err, { status: res.status, rule: data.rule, reason: data.reason, retryAt: data.retry_at });
      throw err;
    }
    return data;
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  const when = (t) => (t ? new Date(t).toLocaleString('pl-PL', { weekday: 'short', day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit' }) : '—');
  const clock = (t) => (t ? new Date(t).toLocaleTimeString('pl-PL', { hour: '2-digit', minute: '2-digit' }) : '—');

  function status(msg, bad) {
    $('cb-status').textContent = msg || '';
    $('cb-status').classList.toggle('bad', !!bad);
  }
  function why(e) {
    if (e.rule) {
      return 'Nie można teraz dzwonić: ' + (RULES[e.rule] || e.rule) + (e.retryAt ? ' (kolejna próba ' + when(e.retryAt) + ')' : '') + '.';
    }
    if (e.reason === 'taken') return 'To oddzwonienie wziął już inny konsultant.';
    if (e.reason === 'not_yours') return 'To oddzwonienie nie jest już Twoje (minął czas rezerwacji).';
    if (e.status === 404) return 'Tego oddzwonienia nie ma już na liście.';
    return 'Błąd: ' + e.message;
  }

  function showCurrent(t) {
    st.current = t;
    $('cb-current').hidden = !t;
    if (!t) return;
    const a = $('cb-phone');
    a.textContent = t.phone || '—';
    a.href = t.phone ? 'tel:' + t.phone : '#';
    $('cb-case').textContent = t.case_number || 'brak';
    $('cb-at').textContent = when(t.at);
    $('cb-attempts').textContent = String(t.attempts || 0);
    $('cb-held').textContent = clock(t.held_until);
  }

  function render() {
    const mine = st.tasks.find((t) => t.taken_by === me);
    if (mine) showCurrent(mine);
    else if (st.current && !st.tasks.some((t) => t.id === st.current.id)) showCurrent(null);
    const n = st.tasks.filter((t) => !t.taken_by).length;
    $('cb-count').textContent = String(n);
    $('cb-count').classList.toggle('has-work', n > 0);
    const tb = $('cb-list');
    tb.textContent = '';
    for (const t of st.tasks) {
      const tr = el('tr', t.taken_by === me ? 'mine' : '');
      tr.dataset.id = t.id;
      const act = el('td');
      if (!t.taken_by) {
        const b = el('button', 'btn btn-primary', 'Biorę');
        b.type = 'button';
        b.disabled = st.busy || !!st.current;
        b.addEventListener('click', () => take(t.id));
        act.append(b);
      } else {
        act.append(el('span', 'muted small', t.taken_by === me ? 'Twoje' : 'Wziął: ' + t.taken_by));
      }
      tr.append(el('td', '', when(t.at)), el('td', 'muted', clock(t.due_at)), el('td', 'mono', t.case_number || '—'),
        el('td', 'mono', t.phone || '—'), el('td', '', String(t.attempts || 0)),
        el('td', 'muted', OUTCOMES[t.last_outcome] || t.last_outcome || '—'), act);
      tb.append(tr);
    }
    if (!st.tasks.length) {
      const tr = el('tr');
      const td = el('td', 'empty-row', 'Brak oddzwonień do wykonania.');
      td.colSpan = 7;
      tr.append(td);
      tb.append(tr);
    }
    for (const b of root.querySelectorAll('.cb-current button')) b.disabled = st.busy;
  }

  async function refresh() {
    try {
      const r = await api('GET', '/console/api/callbacks');
      st.tasks = r.callbacks || [];
      render();
    } catch (e) {
      status('Nie udało się pobrać listy oddzwonień: ' + e.message, true);
    }
  }

  async function act(fn) {
    if (st.busy) return;
    st.busy = true;
    render();
    try { await fn(); } finally { st.busy = false; await refresh(); }
  }

  function take(id) {
    return act(async () => {
      try {
        const t = await api('POST', '/console/api/callbacks/' + encodeURIComponent(id) + '/take');
        showCurrent(t);
        status('Zadzwoń pod numer ' + t.phone + ' i zapisz wynik rozmowy.');
      } catch (e) {
        status(why(e), true);
      }
    });
  }

  for (const b of root.querySelectorAll('.cb-current button[data-outcome]')) {
    b.addEventListener('click', () => act(async () => {
      const t = st.current;
      if (!t) return;
      try {
        await api('POST', '/console/api/callbacks/' + encodeURIComponent(t.id) + '/report', { outcome: b.dataset.outcome });
        showCurrent(null);
        status(REPORTED[b.dataset.outcome]);
      } catch (e) {
        if (e.status === 409 || e.status === 404) showCurrent(null);
        status(why(e), true);
      }
    }));
  }

  $('cb-release').addEventListener('click', () => act(async () => {
    const t = st.current;
    if (!t) return;
    try {
      await api('POST', '/console/api/callbacks/' + encodeURIComponent(t.id) + '/release');
      status('Oddzwonienie wróciło na listę.');
    } catch (e) {
      status(why(e), true);
    }
    showCurrent(null);
  }));

  $('cb-refresh').addEventListener('click', refresh);
  setInterval(refresh, REFRESH_MS);
  refresh();
})();
