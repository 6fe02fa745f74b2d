// Test call page: a browser call to the virtual assistant over WebRTC.
// Signalling: POST /webrtc/offer with the SDP offer as soon as it exists
// ("trickle": true), then a WebSocket /webrtc/events/{id} for the
// assistant's notes (subtitles, state, transfer, hangup), our hangup, and
// the ICE candidates of both sides (trickle ICE, RFC 8838: with STUN/TURN
// gathering takes seconds, and the call need not wait for it). With
// ?trickle=0 the page waits for gathering and sends a complete offer.
// Keys go as RFC 4733 telephone-events through RTCDTMFSender. The
// STUN/TURN servers come from GET /webrtc/ice-servers (webrtc.ice_servers),
// so a caller behind NAT gathers srflx/relay candidates too.
// Hand-written, no dependencies.
'use strict';

(function () {
  const API = '/webrtc';
  const GATHER_TIMEOUT_MS = 5000;
  const TRICKLE = new URLSearchParams(location.search).get('trickle') !== '0';

  // State visible to tests (Playwright reads window.hotline).
  const hotline = {
    state: 'idle', callId: '', subtitles: [], keys: '',
    serverRx: { rms: 0, lastRms: 0, packets: 0 }, cause: '',
    trickle: TRICKLE, candidates: { sent: 0, received: 0 }, iceServers: [],
  };
  window.hotline = hotline;
  // stats reports the call's audio as the browser sees it (for tests and
  // for support: what arrived from the assistant, what we sent).
  hotline.stats = async () => {
    if (!pc) return null;
    const out = {};
    (await pc.getStats()).forEach((r) => {
      if (r.kind !== 'audio') return;
      if (r.type === 'inbound-rtp') {
        out.inbound = { packets: r.packetsReceived, lost: r.packetsLost, energy: r.totalAudioEnergy || 0, codecId: r.codecId };
      } else if (r.type === 'outbound-rtp') {
        out.outbound = { packets: r.packetsSent, codecId: r.codecId };
      }
    });
    (await pc.getStats()).forEach((r) => {
      if (r.type !== 'codec') return;
      if (out.inbound && r.id === out.inbound.codecId) out.inbound.codec = r.mimeType;
      if (out.outbound && r.id === out.outbound.codecId) out.outbound.codec = r.mimeType;
    });
    return out;
  };

  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $('status'), statusText: $('status-text'), timer: $('timer'),
    call: $('call'), hangup: $('hangup'), keypad: $('keypad'), display: $('display'),
    subtitles: $('subtitles'), banner: $('banner'), error: $('error'),
    micBar: $('mic-bar'), srvBar: $('srv-bar'), remote: $('remote'),
  };

  const STATES = {
    idle: 'Gotowy do połączenia',
    mic: 'Prośba o dostęp do mikrofonu…',
    connecting: 'Łączenie…',
    connected: 'Połączono',
    reconnecting: 'Słaby sygnał – ponowne łączenie…',
    transfer: 'Łączenie z konsultantem…',
    ended: 'Rozmowa zakończona',
  };
  // What the status says after the call, by termination cause.
  const CAUSES = {
    caller_hung_up: 'Rozmowa zakończona',
    bot_hung_up: 'Asystent zakończył rozmowę',
    transferred: 'Rozmowa z konsultantem zakończona',
    media_timeout: 'Utracono połączenie (brak dźwięku)',
    shutdown: 'Serwis jest restartowany – zadzwoń ponownie za chwilę',
    failed: 'Wystąpił błąd połączenia',
  };

  let pc = null, ws = null, stream = null, dtmf = null;
  let pending = []; // our candidates gathered before the socket opened
  let startedAt = 0, timerId = 0, meterId = 0, audioCtx = null;

  function setState(s, detail) {
    hotline.state = s;
    ui.status.dataset.state = s;
    ui.statusText.textContent = detail || STATES[s] || s;
    const live = s === 'connecting' || s === 'connected' || s === 'reconnecting' || s === 'transfer' || s === 'mic';
    ui.call.hidden = live;
    ui.hangup.hidden = !live;
    ui.call.disabled = false;
    ui.keypad.classList.toggle('enabled', s === 'connected');
    if (s === 'connected' && !startedAt) {
      startedAt = Date.now();
      timerId = setInterval(tick, 1000);
      tick();
    }
    if (s === 'ended') {
      clearInterval(timerId);
    }
  }

  function tick() {
    const sec = Math.floor((Date.now() - startedAt) / 1000);
    ui.timer.textContent = String(Math.floor(sec / 60)).padStart(2, '0') + ':' + String(sec % 60).padStart(2, '0');
  }

  function showError(msg) {
    ui.error.textContent = msg;
    ui.error.hidden = !msg;
  }

  function addSubtitle(text) {
    if (!text) return;
    hotline.subtitles.push(text);
    const ph = ui.subtitles.querySelector('.placeholder');
    if (ph) ph.remove();
    ui.subtitles.querySelectorAll('li.latest').forEach((li) => li.classList.remove('latest'));
    const li = document.createElement('li');
    li.className = 'latest';
    const time = document.createElement('time');
    const now = new Date();
    time.textContent = now.toLocaleTimeString('pl-PL', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
    const p = document.createElement('p');
    p.textContent = text;
    li.append(time, p);
    ui.subtitles.append(li);
    li.scrollIntoView({ block: 'end', behavior: 'smooth' });
  }

  function showBanner(text) {
    ui.banner.textContent = text || '';
    ui.banner.hidden = !text;
  }

  function onNote(n) {
    switch (n.kind) {
      case 'subtitle':
        addSubtitle(n.text);
        break;
      case 'state':
        if (n.data && (n.data.state === 'connected' || n.data.state === 'reconnecting')) setState(n.data.state);
        break;
      case 'transfer': {
        const st = n.data && n.data.state;
        if (st === 'started') { setState('transfer'); showBanner(n.text || 'Łączymy Cię z konsultantem. Prosimy czekać…'); }
        else if (st === 'failed') { setState('connected'); showBanner(n.text || 'Konsultant jest teraz niedostępny.'); }
        else { showBanner(n.text || ''); }
        break;
      }
      case 'audio':
        if (hotline.state === 'ended') break;
        hotline.serverRx = {
          rms: Number(n.data.rx_rms) || 0,
          lastRms: Number(n.data.rx_last_rms) || 0,
          packets: Number(n.data.rx_packets) || 0,
        };
        ui.srvBar.style.width = levelPercent(hotline.serverRx.lastRms) + '%';
        break;
      case 'hangup':
        hotline.cause = (n.data && n.data.cause) || '';
        finish(CAUSES[hotline.cause] || '');
        break;
    }
  }

  // levelPercent maps a 16-bit RMS to a meter width (log scale, -60..0 dBFS).
  function levelPercent(rms) {
    if (rms <= 0) return 0;
    const db = 20 * Math.log10(rms / 32768);
    return Math.max(0, Math.min(100, ((db + 60) / 60) * 100));
  }

  function gathered(conn) {
    if (conn.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, GATHER_TIMEOUT_MS); // send what we have
      conn.addEventListener('icegatheringstatechange', () => {
        if (conn.iceGatheringState === 'complete') { clearTimeout(t); resolve(); }
      });
    });
  }

  // iceServers fetches the server's STUN/TURN list; without it (an old
  // server, a network error) the call still works on host candidates.
  async function iceServers() {
    try {
      const res = await fetch(API + '/ice-servers', { cache: 'no-store' });
      if (!res.ok) return [];
      const body = await res.json();
      return Array.isArray(body.iceServers) ? body.iceServers : [];
    } catch (_) {
      return [];
    }
  }

  async function call() {
    showError('');
    showBanner('');
    hotline.subtitles = [];
    hotline.keys = '';
    hotline.cause = '';
    hotline.candidates = { sent: 0, received: 0 };
    pending = [];
    ui.display.innerHTML = '&nbsp;';
    ui.subtitles.innerHTML = '';
    startedAt = 0;
    ui.timer.textContent = '';
    ui.call.disabled = true;
    try {
      setState('mic');
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
      startMicMeter(stream);
      setState('connecting');
      hotline.iceServers = await iceServers();
      pc = new RTCPeerConnection({ iceServers: hotline.iceServers });
      for (const track of stream.getAudioTracks()) pc.addTrack(track, stream);
      pc.ontrack = (e) => {
        ui.remote.srcObject = e.streams[0] || new MediaStream([e.track]);
        ui.remote.play().catch(() => {});
      };
      pc.onconnectionstatechange = () => {
        const s = pc && pc.connectionState;
        if (s === 'connected') setState('connected');
        else if (s === 'disconnected') setState('reconnecting');
        else if (s === 'failed') finish(CAUSES.media_timeout);
      };
      if (TRICKLE) {
        // null: gathering is complete; sent as end-of-candidates.
        pc.onicecandidate = (e) => sendCandidate(e.candidate ? e.candidate.toJSON() : { candidate: '' });
      }
      await pc.setLocalDescription(await pc.createOffer());
      if (!TRICKLE) await gathered(pc);
      const res = await fetch(API + '/offer', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(TRICKLE ? { sdp: pc.localDescription.sdp, trickle: true } : { sdp: pc.localDescription.sdp }),
      });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) {
        throw new Error(res.status === 503
          ? 'Wszystkie linie są zajęte. Spróbuj ponownie za chwilę.'
          : 'Nie udało się nawiązać połączenia (' + (body.error || res.status) + ').');
      }
      hotline.callId = body.id;
      // The answer first: the server's candidates on the socket need it.
      await pc.setRemoteDescription({ type: 'answer', sdp: body.sdp });
      openEvents(body.id);
      const sender = pc.getSenders().find((s) => s.track && s.track.kind === 'audio');
      dtmf = sender ? sender.dtmf : null;
    } catch (err) {
      const msg = err && err.name === 'NotAllowedError'
        ? 'Brak dostępu do mikrofonu. Zezwól na mikrofon w przeglądarce i spróbuj ponownie.'
        : (err && err.message) || String(err);
      cleanup();
      setState('idle');
      showError(msg);
    }
  }

  function openEvents(id) {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    ws = new WebSocket(proto + '//' + location.host + API + '/events/' + encodeURIComponent(id));
    ws.onopen = () => {
      const queued = pending;
      pending = [];
      queued.forEach(sendCandidate);
    };
    ws.onmessage = (e) => {
      let m;
      try { m = JSON.parse(e.data); } catch (_) { return; /* ignore a malformed note */ }
      if (m.type === 'candidate') addCandidate(m.candidate);
      else onNote(m);
    };
  }

  // sendCandidate trickles one of our ICE candidates (queued until the
  // socket is open).
  function sendCandidate(c) {
    if (!ws || ws.readyState !== WebSocket.OPEN) { pending.push(c); return; }
    ws.send(JSON.stringify({ type: 'candidate', candidate: c }));
    if (c.candidate) hotline.candidates.sent++;
  }

  // addCandidate applies one of the server's; an empty one ends them.
  function addCandidate(c) {
    if (!pc || !c) return;
    if (c.candidate) hotline.candidates.received++;
    pc.addIceCandidate(c.candidate ? c : undefined).catch(() => { /* ICE goes on with the others */ });
  }

  function hangup() {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'hangup' }));
    finish(CAUSES.caller_hung_up);
  }

  function finish(detail) {
    if (hotline.state === 'ended') return;
    cleanup();
    showBanner('');
    setState('ended', detail || STATES.ended);
  }

  function cleanup() {
    if (pc) { pc.onicecandidate = null; pc.close(); pc = null; }
    pending = [];
    if (stream) { stream.getTracks().forEach((t) => t.stop()); stream = null; }
    if (ws) { const w = ws; ws = null; setTimeout(() => w.close(), 500); }
    if (audioCtx) { audioCtx.close().catch(() => {}); audioCtx = null; }
    clearInterval(meterId);
    ui.micBar.style.width = '0%';
    ui.srvBar.style.width = '0%';
    dtmf = null;
  }

  function press(key) {
    if (hotline.state !== 'connected' || !dtmf || !dtmf.canInsertDTMF) return;
    // insertDTMF replaces the queued tones: append to them so fast
    // typing loses nothing. 100 ms tones, 70 ms gaps (RFC 4733 timing
    // a PBX accepts).
    dtmf.insertDTMF(dtmf.toneBuffer + key, 100, 70);
    hotline.keys += key;
    ui.display.textContent = hotline.keys.slice(-24);
    const b = ui.keypad.querySelector('[data-key="' + key + '"]');
    if (b) { b.classList.add('pressed'); setTimeout(() => b.classList.remove('pressed'), 150); }
  }

  function startMicMeter(s) {
    try {
      audioCtx = new AudioContext();
      const an = audioCtx.createAnalyser();
      an.fftSize = 512;
      audioCtx.createMediaStreamSource(s).connect(an);
      const buf = new Float32Array(an.fftSize);
      meterId = setInterval(() => {
        an.getFloatTimeDomainData(buf);
        let sum = 0;
        for (const v of buf) sum += v * v;
        ui.micBar.style.width = levelPercent(Math.sqrt(sum / buf.length) * 32768) + '%';
      }, 100);
    } catch (_) { /* the meter is decoration */ }
  }

  ui.call.addEventListener('click', call);
  ui.hangup.addEventListener('click', hangup);
  ui.keypad.addEventListener('click', (e) => {
    const b = e.target.closest('button[data-key]');
    if (b) press(b.dataset.key);
  });
  document.addEventListener('keydown', (e) => {
    if (/^[0-9*#]$/.test(e.key)) press(e.key);
  });
  window.addEventListener('beforeunload', () => {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'hangup' }));
  });
  setState('idle');
})();
