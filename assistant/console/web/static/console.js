// Consultant console: presence, ringing offers with their screen-pop,
// answering in the browser (WebRTC: the SDP offer goes at once, ICE
// candidates trickle both ways on the leg's socket the answer names), back to
// the assistant, hang-up, notes, and the supervisor's live board.
'use strict';
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  // STUN/TURN servers (webrtc.ice_servers) as RTCConfiguration.iceServers:
  // without them a consultant behind NAT gathers host candidates only.
  const ICE_SERVERS = (() => {
    try {
      const m = document.querySelector('meta[name="ice-servers"]');
      const v = m ? JSON.parse(m.content) : [];
      return Array.isArray(v) ? v : [];
    } catch (_) {
      return [];
    }
  })();
  const $ = (id) => document.getElementById(id);

  const REASONS = {
    caller_request: 'Klient poprosił o konsultanta',
    case_locked: 'Samoobsługa zablokowana dla sprawy',
    no_input: 'Klient przestał odpowiadać',
    not_verified: 'Nie udało się potwierdzić tożsamości',
    transfer_failed: 'Nieudane przekazanie',
    caller_done: 'Klient zakończył rozmowę',
  };
  const DISCLOSED = {
    balance: 'Saldo zadłużenia', principal: 'Kapitał', interest: 'Odsetki', fees: 'Koszty',
    creditor: 'Wierzyciel', bank_account: 'Numer rachunku do wpłat', last_payment: 'Ostatnia wpłata',
    next_installment: 'Najbliższa rata', callback: 'Termin oddzwonienia',
  };
  const WHO = { bot: 'Asystent', caller: 'Klient', system: 'System' };
  const STATES = { available: 'Dostępny', away: 'Przerwa', offline: 'Niedostępny', busy: 'Zajęty' };
  const CALL_STATES = { waiting: 'w kolejce', offered: 'dzwoni', connected: 'rozmowa' };
  const OUTCOMES = {
    transferred: 'rozmowa zakończona', back: 'przekazano do asystenta', timeout: 'upłynął czas oczekiwania',
    abandoned: 'klient się rozłączył', caller_hung_up: 'klient się rozłączył', failed: 'błąd połączenia',
  };

  const st = {
    state: 'idle', callId: null, popup: null, pc: null, stream: null, startedAt: 0, presence: 'offline', lastCall: null,
    sig: null, candidates: { sent: 0, received: 0 },
  };
  window.hotlineConsole = st; // read by the end-to-end tests

  async function api(method, path, body) {
    const res = await fetch(path, {
      method, credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status === 401) { location.href = '/console/login'; throw new Error('login required'); }
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.error || res.statusText);
    return data;
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  const time = (t) => (t ? new Date(t).toLocaleTimeString('pl-PL', { hour: '2-digit', minute: '2-digit', second: '2-digit' }) : '—');
  function since(t) {
    const s = Math.max(0, Math.round((Date.now() - new Date(t).getTime()) / 1000));
    return s < 60 ? s + ' s' : Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  }

  // --- presence ---
  function showPresence(state) {
    st.presence = state;
    for (const b of document.querySelectorAll('button.pres')) b.setAttribute('aria-pressed', String(b.dataset.state === state));
    $('pres-busy').hidden = state !== 'busy';
  }
  for (const b of document.querySelectorAll('button.pres')) {
    b.addEventListener('click', async () => {
      unlockAudio();
      try { const r = await api('POST', '/console/api/presence', { state: b.dataset.state }); showPresence(r.state); }
      catch (e) { flash('Nie udało się zmienić statusu: ' + e.message); }
    });
  }

  // --- call panel ---
  const panel = $('call-panel');
  function setState(s, title, sub) {
    st.state = s;
    panel.dataset.state = s;
    $('call-state').textContent = title;
    $('call-sub').textContent = sub || '';
    $('btn-answer').disabled = s !== 'ringing';
    $('btn-hangup').disabled = !(s === 'ringing' || s === 'connected' || s === 'connecting');
    $('btn-hangup').textContent = s === 'ringing' ? 'Odrzuć' : 'Rozłącz';
    $('btn-back').disabled = s !== 'connected';
    const noteOK = !!(st.callId || st.lastCall) && (s === 'connected' || s === 'ended');
    $('note').disabled = !noteOK;
    $('btn-note').disabled = !noteOK;
    if (s === 'ringing') ring.start(); else ring.stop();
  }
  function flash(msg) { $('call-sub').textContent = msg; }

  function showPopup(p) {
    st.popup = p;
    $('empty').hidden = true;
    $('popup').hidden = false;
    $('pop-case').textContent = p.case_number || 'nieznany';
    $('pop-name').textContent = p.debtor_name || (p.verification === 'verified' ? '—' : 'nie potwierdzono');
    const v = $('pop-verified');
    v.textContent = '';
    v.append(p.verification === 'verified' ? el('span', 'badge badge-ok', 'Potwierdzona') : el('span', 'badge badge-warn', 'Niepotwierdzona'));
    $('pop-reason').textContent = REASONS[p.reason] || p.reason || '—';
    $('pop-since').textContent = time(p.enqueued_at);
    const dl = $('pop-disclosed');
    dl.textContent = '';
    const seen = new Set();
    for (const d of p.disclosed || []) {
      if (seen.has(d.kind)) continue;
      seen.add(d.kind);
      const li = el('li');
      li.append(el('span', '', DISCLOSED[d.kind] || d.kind), el('span', 'muted', time(d.at)));
      dl.append(li);
    }
    if (!seen.size) dl.append(el('li', 'none', 'Asystent nie ujawnił żadnych danych sprawy.'));
    const tl = $('pop-transcript');
    tl.textContent = '';
    for (const l of p.transcript || []) {
      const li = el('li', l.who);
      li.append(el('span', 'who', (WHO[l.who] || l.who) + ' · ' + time(l.at)), document.createTextNode(l.text));
      tl.append(li);
    }
    tl.scrollTop = tl.scrollHeight;
  }

  function offer(callId, popup) {
    st.callId = callId;
    $('notes').textContent = '';
    $('note-status').textContent = '';
    if (popup) showPopup(popup);
    setState('ringing', 'Połączenie przychodzące', 'Asystent przekazuje klienta. Odbierz, aby rozmawiać przez przeglądarkę.');
  }

  function clearCall(msg) {
    if (st.pc) { st.pc.onicecandidate = null; st.pc.close(); st.pc = null; }
    if (st.sig) { st.sig.close(); st.sig = null; }
    if (st.stream) { st.stream.getTracks().forEach((t) => t.stop()); st.stream = null; }
    st.startedAt = 0;
    $('call-timer').textContent = '';
    $('meter-in').style.width = '0';
    setState(st.lastCall ? 'ended' : 'idle', msg || 'Brak połączenia',
      st.lastCall ? 'Możesz dodać notatkę do zakończonego połączenia.' : 'Czekasz na połączenie.');
  }

  function ended(callId, outcome) {
    if (callId !== st.callId) return;
    st.lastCall = callId;
    addRecent(callId, outcome);
    st.callId = null;
    clearCall('Połączenie zakończone — ' + (OUTCOMES[outcome] || outcome || ''));
  }

  function addRecent(callId, outcome) {
    const ul = $('recent');
    if (ul.querySelector('.muted')) ul.textContent = '';
    const li = el('li');
    const who = st.popup && st.popup.case_number ? 'Sprawa ' + st.popup.case_number : 'Połączenie ' + callId.slice(0, 8);
    li.append(el('span', '', who), el('span', 'muted', (OUTCOMES[outcome] || outcome || '') + ' · ' + time(new Date())));
    ul.prepend(li);
  }

  // trickle exchanges ICE candidates with the server on the leg's socket
  // (path from the answer): ours as they are gathered (those gathered
  // before the socket opened first), the server's into pc. Messages
  // without "type" are the leg's notes: the console has its own socket.
  function trickle(pc, path, early) {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(proto + '//' + location.host + path);
    st.sig = ws;
    const send = (c) => {
      ws.send(JSON.stringify({ type: 'candidate', candidate: c }));
      if (c.candidate) st.candidates.sent++;
    };
    ws.onopen = () => {
      early.splice(0).forEach(send);
      pc.onicecandidate = (e) => send(e.candidate ? e.candidate.toJSON() : { candidate: '' });
    };
    ws.onmessage = (e) => {
      let m;
      try { m = JSON.parse(e.data); } catch (_) { return; }
      if (m.type !== 'candidate' || !m.candidate || st.pc !== pc) return;
      if (m.candidate.candidate) st.candidates.received++;
      pc.addIceCandidate(m.candidate.candidate ? m.candidate : undefined).catch(() => { /* ICE goes on with the others */ });
    };
  }

  $('btn-answer').addEventListener('click', async () => {
    const id = st.callId;
    if (!id) return;
    unlockAudio();
    setState('connecting', 'Łączenie…', 'Uruchamianie mikrofonu i połączenia głosowego.');
    try {
      st.stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
      const pc = new RTCPeerConnection({ iceServers: ICE_SERVERS });
      st.pc = pc;
      st.stream.getTracks().forEach((t) => pc.addTrack(t, st.stream));
      pc.addEventListener('track', (e) => { $('remote-audio').srcObject = e.streams[0] || new MediaStream([e.track]); });
      pc.addEventListener('connectionstatechange', () => {
        if ((pc.connectionState === 'failed' || pc.connectionState === 'closed') && st.pc === pc && st.callId === id) {
          ended(id, 'failed');
        }
      });
      // Candidates gathered before the socket is open wait here (null:
      // gathering complete, sent as end-of-candidates).
      const early = [];
      st.candidates = { sent: 0, received: 0 };
      pc.onicecandidate = (e) => early.push(e.candidate ? e.candidate.toJSON() : { candidate: '' });
      await pc.setLocalDescription(await pc.createOffer());
      const r = await api('POST', '/console/api/calls/' + encodeURIComponent(id) + '/answer', { sdp: pc.localDescription.sdp, trickle: true });
      await pc.setRemoteDescription({ type: 'answer', sdp: r.sdp });
      // A server that cannot trickle answers complete (no events): our
      // candidates then reach it through connectivity checks.
      if (r.events) trickle(pc, r.events, early); else pc.onicecandidate = null;
      st.startedAt = Date.now();
      setState('connected', 'Rozmowa z klientem', 'Mówisz z klientem. Możesz przekazać go asystentowi, aby umówił oddzwonienie.');
    } catch (e) {
      const msg = 'Nie udało się odebrać: ' + e.message;
      clearCall('Nie odebrano');
      flash(msg);
    }
  });

  $('btn-hangup').addEventListener('click', async () => {
    const id = st.callId;
    if (!id) return;
    const wasRinging = st.state === 'ringing';
    try { await api('POST', '/console/api/calls/' + encodeURIComponent(id) + '/hangup'); } catch (e) { flash(e.message); }
    if (wasRinging) { st.callId = null; clearCall('Połączenie odrzucone'); }
  });

  $('btn-back').addEventListener('click', async () => {
    const id = st.callId;
    if (!id) return;
    try { await api('POST', '/console/api/calls/' + encodeURIComponent(id) + '/back'); } catch (e) { flash(e.message); }
  });

  $('btn-note').addEventListener('click', async () => {
    const id = st.callId || st.lastCall;
    const text = $('note').value.trim();
    if (!id || !text) return;
    try {
      const n = await api('POST', '/console/api/calls/' + encodeURIComponent(id) + '/note', { text });
      showNote(n);
      $('note').value = '';
      $('note-status').textContent = 'Zapisano ' + time(n.at);
    } catch (e) { $('note-status').textContent = 'Nie zapisano: ' + e.message; }
  });
  function showNote(n) {
    const li = el('li');
    li.append(el('span', 'muted', time(n.at) + ' · ' + n.by), document.createTextNode(n.text));
    $('notes').append(li);
  }

  // Call timer and the caller's audio level.
  setInterval(async () => {
    if (st.startedAt) {
      const s = Math.floor((Date.now() - st.startedAt) / 1000);
      $('call-timer').textContent = String(Math.floor(s / 60)).padStart(2, '0') + ':' + String(s % 60).padStart(2, '0');
    } else {
      $('call-timer').textContent = '';
    }
    if (st.pc) {
      const stats = await st.pc.getStats();
      stats.forEach((r) => {
        if (r.type === 'inbound-rtp' && r.kind === 'audio' && typeof r.audioLevel === 'number') {
          $('meter-in').style.width = Math.min(100, Math.round(Math.sqrt(r.audioLevel) * 140)) + '%';
        }
      });
    }
  }, 250);

  // Ringing sound (WebAudio, after the first click allows audio).
  let actx = null;
  function unlockAudio() {
    try { if (!actx) actx = new AudioContext(); if (actx.state === 'suspended') actx.resume(); } catch (e) { /* no audio */ }
  }
  const ring = {
    timer: null,
    start() {
      if (this.timer) return;
      const beep = () => {
        if (!actx || actx.state !== 'running') return;
        for (const at of [0, 0.4]) {
          const o = actx.createOscillator(), g = actx.createGain();
          o.frequency.value = 440; o.connect(g); g.connect(actx.destination);
          g.gain.setValueAtTime(0.08, actx.currentTime + at);
          g.gain.exponentialRampToValueAtTime(0.0001, actx.currentTime + at + 0.35);
          o.start(actx.currentTime + at); o.stop(actx.currentTime + at + 0.36);
        }
      };
      beep();
      this.timer = setInterval(beep, 3000);
    },
    stop() { clearInterval(this.timer); this.timer = null; },
  };

  // --- supervisor board ---
  let lastBoard = null;
  setInterval(() => { if (lastBoard) renderBoard(lastBoard); }, 1000); // the waiting times move on
  function renderBoard(b) {
    if (!$('board')) return;
    lastBoard = b;
    const calls = b.calls || [], cons = b.consultants || [];
    $('kpi-queue').textContent = b.queue;
    $('kpi-live').textContent = calls.filter((c) => c.state === 'connected').length;
    $('kpi-available').textContent = cons.filter((c) => c.state === 'available').length;
    const tc = $('board-consultants');
    tc.textContent = '';
    for (const c of cons) {
      const tr = el('tr');
      const s = el('td');
      s.append(el('span', 'dot dot-' + c.state), document.createTextNode(' ' + (STATES[c.state] || c.state)));
      tr.append(el('td', '', c.name || c.user), s, el('td', 'muted', c.state === 'offline' ? '—' : time(c.since)));
      tc.append(tr);
    }
    if (!cons.length) { const tr = el('tr'); const td = el('td', 'empty-row', 'Nikt nie jest zalogowany.'); td.colSpan = 3; tr.append(td); tc.append(tr); }
    const tl = $('board-calls');
    tl.textContent = '';
    for (const c of calls) {
      const tr = el('tr');
      tr.append(el('td', 'mono', c.id.slice(0, 10)), el('td', '', CALL_STATES[c.state] || c.state), el('td', '', c.consultant || '—'),
        el('td', '', REASONS[c.reason] || c.reason || '—'), el('td', 'muted', since(c.enqueued_at)));
      tl.append(tr);
    }
    if (!calls.length) { const tr = el('tr'); const td = el('td', 'empty-row', 'Brak połączeń w kolejce i rozmów.'); td.colSpan = 5; tr.append(td); tl.append(tr); }
  }

  function showQueue(n) {
    $('queue-count').textContent = n;
    $('queue-pill').classList.toggle('has-queue', n > 0);
  }

  // --- server events ---
  let retry = 500;
  function connect() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(proto + '//' + location.host + '/console/ws?csrf=' + encodeURIComponent(csrf));
    ws.addEventListener('open', () => {
      retry = 500;
      $('conn').classList.add('ok');
      $('conn-text').textContent = 'Połączono';
      load();
    });
    ws.addEventListener('close', () => {
      $('conn').classList.remove('ok');
      $('conn-text').textContent = 'Brak połączenia';
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 10000);
    });
    ws.addEventListener('message', (m) => {
      const ev = JSON.parse(m.data);
      switch (ev.type) {
        case 'offer': offer(ev.call_id, ev.popup); break;
        case 'offer_cancelled':
          if (ev.call_id === st.callId && st.state === 'ringing') {
            st.callId = null;
            clearCall(ev.outcome === 'missed' ? 'Nieodebrane połączenie' : 'Połączenie odrzucone');
            flash(ev.outcome === 'missed' ? 'Nie odebrano na czas — status zmieniono na „Przerwa”.' : 'Klient wrócił do kolejki.');
          }
          break;
        case 'ended': ended(ev.call_id, ev.outcome); break;
        case 'presence': if (ev.presence) showPresence(ev.presence.state); break;
        case 'queue': showQueue(ev.queue); break;
        case 'board': renderBoard(ev.board); break;
      }
    });
  }

  async function load() {
    try {
      const me = await api('GET', '/console/api/me');
      showPresence(me.presence.state);
      if (me.board) renderBoard(me.board);
      if (me.call && me.call.state === 'offered' && st.callId !== me.call.id) offer(me.call.id, me.call.popup);
    } catch (e) { /* the socket retries */ }
  }

  setState('idle', 'Brak połączenia', 'Ustaw status „Dostępny”, aby odbierać połączenia przekazane przez asystenta.');
  connect();
})();
