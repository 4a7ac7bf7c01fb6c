/* Ruang Tanya: the client half of docs/protocol.md (version 1), shared by the widget (chat.js,
 * /ws/patron/) and the librarian dashboard (reference/dashboard/*.js, /ws/librarian/).
 *
 *   var client = RuangTanyaProtocol.client({
 *     path: "/ws/patron/",
 *     hello: function () { return {token: …, last_seq: …}; },   // the resume point: added to hello
 *     have: function (conversationId) { return seq or null; },     // the last seq held with no gap
 *                                                                  //   before it (null: not followed)
 *     outbox: {storage: RuangTanyaProtocol.store(…), key: "outbox", toFrame: fn, resend: fn, valid: fn},
 *     hook: function (name, a, b) { … },                          // plugins (see `plugins` below)
 *     onFrame: function (frame, extra) { … },                     // every frame, after the plugins
 *     onResumed: function () { … },                               // after a welcome and the resend
 *     onDown: function (closeCode) { … },                         // the socket is gone
 *     onStatus: function (mode) { … }                             // connecting, reconnecting,
 *   });                                                           //   waiting, connected, stopped
 *   client.start();
 *
 * What it does for both sides, as the protocol says:
 *  - connects, and reconnects with exponential backoff and jitter (1 s … 30 s, the delay a random
 *    point in the upper half of the step), at once when the browser comes back online or the tab
 *    becomes visible;
 *  - hello (v: 1, plus the app's resume point); `welcome` makes it ready;
 *  - the outbox: frames with a client_id that the server has not acknowledged, kept in storage so a
 *    reload retries too, sent at once when ready and re-sent after every welcome with the same
 *    client_id (the server dedupes). An `ack` takes its entry out (onFrame gets it as `extra`); an
 *    `error` whose ref is an entry's client_id leaves it to the app (onFrame gets it as `extra`),
 *    except `unavailable`: the entry is sent again after the error's retry_after;
 *  - gap repair: a `message` (or `ack`) with a seq ahead of `have(conversation)` + 1, or a heartbeat
 *    whose last_seq is ahead, sends `fetch` after what is held; `messages` with more: true asks on;
 *    one request per conversation at a time;
 *  - liveness: silence for 2.5 heartbeat intervals (the welcome says the interval), an unanswered
 *    ping (15 s) or an open socket without a welcome (15 s) counts as a dead connection; a socket
 *    quiet for one interval + 5 s is pinged. `ping(kind, id)` is also a marker: the server answers
 *    in order, so when the pong comes back (onFrame(pong, marker)) every answer to what was sent
 *    before it has arrived.
 *
 * Frames the app sends go through client.send(frame) (false when not connected). */
window.RuangTanyaProtocol = (function () {
  "use strict";

  var BACKOFF_MIN_MS = 1000, BACKOFF_MAX_MS = 30000;
  var PING_TIMEOUT_MS = 15000, WELCOME_TIMEOUT_MS = 15000;

  /* A client_id: a UUID (v4). */
  function uid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    var b = new Uint8Array(16);
    if (window.crypto && window.crypto.getRandomValues) window.crypto.getRandomValues(b);
    else for (var i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  /* localStorage or sessionStorage under a prefix, falling back to memory where storage is blocked
     (some embedded contexts, private modes). */
  function store(kind, prefix) {
    var memory = {};
    prefix = prefix || "";
    function area() { return window[kind]; }
    return {
      get: function (k) {
        try { return area().getItem(prefix + k); } catch (e) { return Object.prototype.hasOwnProperty.call(memory, k) ? memory[k] : null; }
      },
      set: function (k, v) {
        try { area().setItem(prefix + k, v); } catch (e) { memory[k] = v; }
      },
      del: function (k) {
        try { area().removeItem(prefix + k); } catch (e) { delete memory[k]; }
      },
      getJSON: function (k, fallback) {
        try { return JSON.parse(this.get(k)) || fallback; } catch (e) { return fallback; }
      }
    };
  }

  /* Plugins register a factory in a global list before the page's script starts; each gets the
     page's small API and returns hooks ({frame, message, stored, render…}). hook(name, a, b) calls
     `name` on every plugin and is true when one of them says it handled the event. */
  function plugins(list, api) {
    var made = (list || []).map(function (plugin) { return plugin(api); });
    return function hook(name, a, b) {
      var handled = false;
      made.forEach(function (p) { if (p && typeof p[name] === "function" && p[name](a, b)) handled = true; });
      return handled;
    };
  }

  /* The unacknowledged frames, in the order they were made. */
  function Outbox(options) {
    this.options = options || {};
    this.items = [];
    var saved = this.options.storage ? this.options.storage.getJSON(this.options.key, []) : [];
    var valid = this.options.valid || function () { return true; };
    var self = this;
    (Array.isArray(saved) ? saved : []).forEach(function (entry) {
      if (entry && typeof entry.client_id === "string" && valid(entry)) self.items.push(entry);
    });
  }
  Outbox.prototype.save = function () {
    if (!this.options.storage) return;
    // Entries the app gave up on (failed: shown with the reason) are not kept over a reload.
    this.options.storage.set(this.options.key, JSON.stringify(this.items.filter(function (e) { return e.status !== "failed"; })));
  };
  Outbox.prototype.index = function (clientId) {
    for (var i = 0; i < this.items.length; i++) if (this.items[i].client_id === clientId) return i;
    return -1;
  };
  Outbox.prototype.has = function (clientId) { return this.index(clientId) !== -1; };
  Outbox.prototype.get = function (clientId) { var i = this.index(clientId); return i === -1 ? null : this.items[i]; };
  Outbox.prototype.take = function (clientId) {
    var i = this.index(clientId);
    if (i === -1) return null;
    var entry = this.items.splice(i, 1)[0];
    this.save();
    return entry;
  };
  Outbox.prototype.add = function (entry) { this.items.push(entry); this.save(); return entry; };
  Outbox.prototype.list = function (filter) { return filter ? this.items.filter(filter) : this.items.slice(); };
  Outbox.prototype.forEach = function (fn) { this.items.slice().forEach(fn); };
  Outbox.prototype.remove = function (filter) {
    var before = this.items.length;
    this.items = this.items.filter(function (e) { return !filter(e); });
    if (this.items.length !== before) this.save();
  };
  Outbox.prototype.frame = function (entry) { return this.options.toFrame ? this.options.toFrame(entry) : entry; };

  function createClient(options) {
    var noop = function () {};
    var onFrame = options.onFrame || noop, onDown = options.onDown || noop, onStatus = options.onStatus || noop;
    var hook = options.hook || function () { return false; };
    var have = options.have || function () { return null; };

    var ws = null, attempt = 0, retryTimer = 0, stopped = false;
    var heardAt = 0, openedAt = 0, heartbeatMs = 20000;
    var markers = [], fetching = {};
    var outbox = new Outbox(options.outbox);
    var client = {
      ready: false, everConnected: false, retryAt: 0, outbox: outbox,
      send: send, ping: ping, hello: hello, repair: repair, enqueue: enqueue,
      reconnectNow: reconnectNow, resetBackoff: function () { attempt = 0; }, stop: stop,
      attempts: function () { return attempt; }, stopped: function () { return stopped; },
      firstMarker: firstMarker
    };

    function url() {
      return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + options.path;
    }

    function send(frame) {
      if (!ws || ws.readyState !== 1) return false;
      ws.send(JSON.stringify(frame));
      return true;
    }

    function hello() {
      var frame = Object.assign({ type: "hello", v: 1, lang: document.documentElement.lang || "" }, options.hello ? options.hello() : {});
      return send(frame);
    }

    function ping(kind, id) {
      var marker = { kind: kind, id: id, error: null, sent: Date.now() };
      if (send({ type: "ping" })) markers.push(marker);
      return marker;
    }
    /* The oldest marker of `kind` no error has been matched to yet (errors carry the type as ref). */
    function firstMarker(kind) {
      for (var i = 0; i < markers.length; i++) if (markers[i].kind === kind && !markers[i].error) return markers[i];
      return null;
    }

    function open() {
      clearTimeout(retryTimer);
      retryTimer = 0;
      if (ws || stopped) return;
      onStatus(client.everConnected ? "reconnecting" : "connecting");
      var socket;
      try { socket = new WebSocket(url()); } catch (e) { retry(); return; }
      ws = socket;
      socket.onopen = function () {
        if (ws !== socket) return;
        heardAt = openedAt = Date.now();
        hello();
      };
      socket.onmessage = function (event) {
        if (ws !== socket) return;
        heardAt = Date.now();
        var frame;
        try { frame = JSON.parse(event.data); } catch (e) { return; }
        if (frame && typeof frame.type === "string") receive(frame);
      };
      socket.onclose = function (event) { if (ws === socket) lost(event.code); };
      socket.onerror = function () { /* a close follows */ };
    }

    /* Give up the socket (closed by the server, or found dead) and try again later. */
    function lost(code) {
      var socket = ws;
      ws = null;
      if (socket) {
        socket.onopen = socket.onmessage = socket.onclose = null;
        try { socket.close(); } catch (e) { /* gone */ }
      }
      client.ready = false;
      markers = [];
      fetching = {};
      onDown(code || 1006);
      retry();
    }

    function retry() {
      if (stopped) return;
      var step = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, Math.min(attempt, 10)));
      var delay = Math.round(step / 2 + Math.random() * step / 2);
      attempt += 1;
      client.retryAt = Date.now() + delay;
      clearTimeout(retryTimer);
      retryTimer = setTimeout(open, delay);
      onStatus("waiting");
    }

    function reconnectNow() {
      if (ws || stopped) return;
      attempt = 0;
      open();
    }

    function stop() {
      stopped = true;
      clearTimeout(retryTimer);
      retryTimer = 0;
      var socket = ws;
      ws = null;
      client.ready = false;
      if (socket) {
        socket.onopen = socket.onmessage = socket.onclose = null;
        try { socket.close(); } catch (e) { /* gone */ }
      }
      onStatus("stopped");
    }

    /* Ask for what is missing of a conversation up to `upTo`, one request per conversation at a time. */
    function repair(conversation, upTo) {
      var held = have(conversation);
      if (held === null || held === undefined || fetching[conversation] || !client.ready || held >= upTo) return;
      fetching[conversation] = send({ type: "fetch", conversation: conversation, after: held });
    }

    function enqueue(entry) {
      outbox.add(entry);
      if (client.ready) send(outbox.frame(entry));
      return entry;
    }

    /* `unavailable` (the database or Redis briefly away): the entry stays "sending" and goes again
       with the same client_id after the server's retry_after (seconds), or with the next welcome. */
    function resendLater(clientId, seconds) {
      var delay = Math.max(1, Math.min(60, Number(seconds) || 5)) * 1000;
      setTimeout(function () {
        var entry = outbox.get(clientId);
        if (entry && client.ready) send(outbox.frame(entry));
      }, delay);
    }

    function resend() {
      var keep = outbox.options.resend || function () { return true; };
      outbox.forEach(function (entry) { if (keep(entry)) send(outbox.frame(entry)); });
      outbox.save();
    }

    function receive(f) {
      if (hook("frame", f)) return; // handled by a plugin
      switch (f.type) {
        case "welcome":
          client.ready = true;
          if (onFrame(f) === false) { client.ready = false; return; } // the app asked again (hello)
          client.everConnected = true;
          attempt = 0;
          if (f.heartbeat > 0) heartbeatMs = f.heartbeat * 1000;
          resend();
          onStatus("connected");
          if (options.onResumed) options.onResumed();
          return;
        case "ack": {
          var entry = outbox.take(f.client_id);
          onFrame(f, entry);
          if (typeof f.conversation === "number" && typeof f.seq === "number") repair(f.conversation, f.seq);
          return;
        }
        case "message":
          onFrame(f);
          if (f.message && typeof f.message.seq === "number") repair(f.message.conversation, f.message.seq);
          return;
        case "messages":
          fetching[f.conversation] = false;
          onFrame(f);
          if (f.more) { var held = have(f.conversation); if (held !== null && held !== undefined) repair(f.conversation, held + 1); }
          return;
        case "heartbeat": {
          onFrame(f);
          var last = f.last_seq || {};
          Object.keys(last).forEach(function (id) { if (typeof last[id] === "number") repair(Number(id), last[id]); });
          return;
        }
        case "pong":
          onFrame(f, markers.shift() || null);
          return;
        case "error":
          if (f.code === "unavailable" && typeof f.ref === "string" && outbox.has(f.ref)) {
            resendLater(f.ref, f.retry_after);  // the server was briefly away: nothing was stored yet
            return;
          }
          if (f.ref === "fetch") fetching = {}; // asked about a chat we no longer see: stop asking
          onFrame(f, typeof f.ref === "string" ? outbox.get(f.ref) : null);
          return;
        default:
          onFrame(f);
      }
    }

    /* Liveness: a phone that changed networks or a laptop that slept has a dead socket long before
       the browser notices. */
    setInterval(function () {
      if (!ws || ws.readyState !== 1) return;
      var now = Date.now();
      if (!client.ready) { if (now - openedAt > WELCOME_TIMEOUT_MS) lost(1006); return; }
      if (now - heardAt > heartbeatMs * 2.5) { lost(1006); return; }
      if (markers.length && now - markers[0].sent > PING_TIMEOUT_MS) { lost(1006); return; }
      if (!markers.length && now - heardAt > heartbeatMs + 5000) ping("heartbeat", null);
    }, 1000);

    window.addEventListener("online", reconnectNow);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) reconnectNow(); });

    client.start = open;
    return client;
  }

  return { client: createClient, uid: uid, store: store, plugins: plugins };
})();
