/*
 * trisync-events.js: a tenant's live events (or, for an admin, every tenant's) over trisync's SockJS
 * event-bus bridge, built on the official Vert.x client (js/vendor/vertx-eventbus.js, which needs
 * SockJS: /webjars/sockjs-client/1.6.1/dist/sockjs.min.js).
 *
 *   var events = new TrisyncEvents({
 *     token: '...', tenant: 'alice',          // tenant omitted with an admin token: every tenant
 *     urls: ['http://node1:8080/eventbus', 'http://node2:8080/eventbus'],  // optional: default '/eventbus'
 *     onevent: function (e) {}, onstate: function (s) {}, onreload: function (info) {},
 *     onerror: function (message) {}
 *   });
 *   events.start();
 *
 * Every frame carries the token (header "token"); the server verifies it on the socket's first frame.
 * When the connection drops the module reconnects with exponential backoff and jitter (to the next
 * of the urls when several are given: any node of a cluster serves every tenant's events), asks the
 * server for the events after the last seq it delivered (trisync.bridge.replay), delivers them in
 * order, then the live ones, each once (de-duplicated by seq). A live event that skips a seq (events
 * published by two nodes can cross) triggers a replay of the gap; events after a gap are held, and
 * the replay asked again every gapPoll ms, until the gap is filled or the first event after it has
 * been held for gapWait ms (6 s: a node gives up numbers it took and did not log within 5 s,
 * EventPublisher.HOLD_LIMIT_MS, so a gap open that long is nearly always a failed write's, which
 * never fills). Should an event of a seq passed over come after all, it is delivered then, late and
 * once. If the server's log no longer
 * reaches back far enough, onreload is called so the page can reload its state. A tenant stream that
 * opens with no lastSeq first asks where the log stands (its head seq), so a reconnect before any
 * event has arrived replays from there, never the events from before the page opened; one that
 * opens with a lastSeq replays from it at once. Replay is per tenant: an admin's all-tenant stream is
 * told to reload after a reconnect.
 * States: connecting, open, reconnecting, closed.
 */
(function (global) {
  'use strict';

  var REPLAY = 'trisync.bridge.replay';

  function TrisyncEvents(options) {
    this.urls = options.urls && options.urls.length ? options.urls.slice() : [options.url || '/eventbus'];
    this.next = 0;
    this.url = this.urls[0];
    this.token = options.token;
    this.tenant = options.tenant || null;
    this.address = this.tenant ? 'trisync.events.' + this.tenant : 'trisync.events.all';
    this.lastSeq = typeof options.lastSeq === 'number' ? options.lastSeq : null;
    this.headSeq = null;
    this.onevent = options.onevent || function () {};
    this.onstate = options.onstate || function () {};
    this.onreload = options.onreload || function () {};
    this.onerror = options.onerror || function () {};
    this.minDelay = options.minDelay || 500;
    this.maxDelay = options.maxDelay || 10000;
    this.gapWait = options.gapWait || 6000;
    this.gapPoll = options.gapPoll || 250;
    this.seenAt = {};
    this.passed = {};
    this.holding = false;
    this.attempts = 0;
    this.state = 'closed';
    this.replaying = false;
    this.buffer = [];
    this.connectedOnce = false;
    this.stopped = true;
    this.eb = null;
    this.timer = null;
  }

  TrisyncEvents.prototype.start = function () {
    this.stopped = false;
    this._connect();
  };

  TrisyncEvents.prototype.stop = function () {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.eb) {
      try { this.eb.close(); } catch (e) { /* already closed */ }
    }
    this._state('closed');
  };

  TrisyncEvents.prototype._state = function (state) {
    if (this.state !== state) {
      this.state = state;
      this.onstate(state);
    }
  };

  TrisyncEvents.prototype._connect = function () {
    var self = this;
    self._state(self.connectedOnce ? 'reconnecting' : 'connecting');
    self.url = self.urls[self.next];
    var eb = new EventBus(self.url, { vertxbus_ping_interval: 5000 });
    eb.defaultHeaders = { token: self.token };
    self.eb = eb;
    eb.onerror = function (err) {
      self.onerror(err && err.body ? err.body : String(err && err.message || err));
    };
    eb.onopen = function () {
      var resumed = self.connectedOnce;
      self.connectedOnce = true;
      self.attempts = 0;
      var from = self._from();
      self.replaying = self.tenant !== null && from !== null;
      self.buffer = [];
      self.seenAt = {};
      self.holding = false;
      eb.registerHandler(self.address, function (err, message) {
        if (err) {
          self.onerror('subscription refused: ' + (err.body || err.message || 'access denied'));
          return;
        }
        self._live(message.body);
      });
      self._state('open');
      if (self.tenant) {
        if (from !== null) {
          self._replay();
        } else {
          self._head(resumed);
        }
      } else if (resumed) {
        self.onreload({ reason: 'reconnected; the all-tenant stream cannot be replayed' });
      }
    };
    eb.onclose = function () {
      if (self.eb !== eb || self.stopped) {
        return;
      }
      // The node may be gone: the next attempt goes to the next address (a single one: the same).
      self.next = (self.next + 1) % self.urls.length;
      var delay = Math.min(self.maxDelay, self.minDelay * Math.pow(2, self.attempts++));
      delay = delay / 2 + Math.random() * delay / 2;
      self._state('reconnecting');
      self.timer = setTimeout(function () { self._connect(); }, delay);
    };
  };

  // Where a replay starts: after the last event delivered or, before any, the log's head at opening.
  TrisyncEvents.prototype._from = function () {
    return this.lastSeq !== null ? this.lastSeq : this.headSeq;
  };

  // Learns the tenant log's head seq. After a reconnect that came before it was known, what happened
  // in between cannot be told apart from the log before the page opened: the page is told to reload.
  TrisyncEvents.prototype._head = function (resumed) {
    var self = this;
    var eb = self.eb;
    eb.send(REPLAY, { tenantId: self.tenant, head: true }, function (err, reply) {
      if (self.eb !== eb || self.stopped) {
        return;
      }
      if (err) {
        self.onerror('replay position failed: ' + (err.body || err.message));
        if (resumed) {
          self.onreload({ reason: 'reconnected, and the stream position could not be read' });
        }
        return;
      }
      self.headSeq = reply.body.head_seq;
      if (resumed) {
        self.onreload({ reason: 'reconnected before the stream position was known' });
      }
    });
  };

  TrisyncEvents.prototype._live = function (event) {
    if (this.replaying) {
      this._hold(event);
      return;
    }
    if (this._skips(event)) {
      // A gap: fetch it, and hold live events until it is filled.
      this._hold(event);
      this._replay();
      return;
    }
    this._deliver(event);
  };

  // Whether a tenant event comes after a seq not yet delivered.
  TrisyncEvents.prototype._skips = function (event) {
    var from = this._from();
    return this.tenant !== null && from !== null && event.seq > from + 1;
  };

  // Holds an event, noting when it was first seen.
  TrisyncEvents.prototype._hold = function (event) {
    if (this.tenant !== null && !(event.seq in this.seenAt)) {
      this.seenAt[event.seq] = Date.now();
    }
    this.buffer.push(event);
  };

  // Delivers the held events and those given, in seq order, up to the first gap, unless the event
  // after it has been held for gapWait (or when forced). Keeps the rest held; true when none is left.
  TrisyncEvents.prototype._release = function (events, force) {
    var now = Date.now();
    var held = this.buffer.concat(events).sort(function (a, b) { return a.seq - b.seq; });
    // A replay asked again returns what is held already: keep one of each seq.
    held = held.filter(function (e, i) { return i === 0 || e.seq !== held[i - 1].seq; });
    this.buffer = [];
    for (var i = 0; i < held.length; i++) {
      var e = held[i];
      if (this._skips(e)) {
        if (!(e.seq in this.seenAt)) {
          this.seenAt[e.seq] = now;
        }
        if (!force && now - this.seenAt[e.seq] < this.gapWait) {
          this.buffer = held.slice(i);
          this.holding = true;
          return false;
        }
        // Passed over: an event of these seqs that comes after all is still delivered, once (the
        // seqs of the last 1,000 are remembered).
        for (var seq = this._from() + 1; seq < e.seq && seq < this._from() + 1000; seq++) {
          this.passed[seq] = true;
        }
        for (var old in this.passed) {
          if (Number(old) < e.seq - 1000) {
            delete this.passed[old];
          }
        }
      }
      delete this.seenAt[e.seq];
      this._deliver(e);
    }
    this.holding = false;
    return true;
  };

  TrisyncEvents.prototype._deliver = function (event) {
    if (this.tenant) {
      if (this.lastSeq !== null && event.seq <= this.lastSeq) {
        if (!this.passed[event.seq]) {
          return;
        }
        delete this.passed[event.seq];
      } else {
        this.lastSeq = event.seq;
      }
    }
    try {
      this.onevent(event);
    } catch (e) {
      this.onerror('onevent failed: ' + e);
    }
  };

  TrisyncEvents.prototype._replay = function () {
    var self = this;
    var eb = self.eb;
    self.replaying = true;
    eb.send(REPLAY, { tenantId: self.tenant, afterSeq: self._from() }, function (err, reply) {
      if (self.eb !== eb || self.stopped) {
        return;
      }
      if (err) {
        self.onerror('replay failed: ' + (err.body || err.message));
        self._answered(eb, [], false);
        return;
      }
      var body = reply.body;
      if (body.reload) {
        // The page reloads its state: from here on only what comes after the log's head counts.
        self.lastSeq = null;
        self.headSeq = null;
        self.buffer = [];
        self.seenAt = {};
        self.passed = {};
        self.holding = false;
        self.replaying = false;
        self.onreload(body);
        if (!self.stopped && self.eb === eb) {
          self._head(false);
        }
        return;
      }
      self._answered(eb, body.events, body.more);
    });
  };

  // After a replay's answer (or its failure): delivers what follows on, then asks for the next page,
  // or asks again shortly while held at a gap (another node's events still on their way), or ends
  // the replay.
  TrisyncEvents.prototype._answered = function (eb, events, more) {
    var self = this;
    if (!self._release(events, false)) {
      setTimeout(function () {
        if (self.eb === eb && !self.stopped && eb.state === EventBus.OPEN) {
          self._replay();
        }
      }, self.gapPoll);
    } else if (more) {
      self._replay();
    } else {
      self.replaying = false;
    }
  };

  global.TrisyncEvents = TrisyncEvents;
})(this);
