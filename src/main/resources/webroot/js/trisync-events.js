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
 * published by two nodes can cross) triggers a replay of the gap. If the server's log no longer
 * reaches back far enough, onreload is called so the page can reload its state. Replay is per tenant:
 * an admin's all-tenant stream is told to reload after a reconnect.
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
    this.onevent = options.onevent || function () {};
    this.onstate = options.onstate || function () {};
    this.onreload = options.onreload || function () {};
    this.onerror = options.onerror || function () {};
    this.minDelay = options.minDelay || 500;
    this.maxDelay = options.maxDelay || 10000;
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
      self.replaying = self.lastSeq !== null && resumed;
      self.buffer = [];
      eb.registerHandler(self.address, function (err, message) {
        if (err) {
          self.onerror('subscription refused: ' + (err.body || err.message || 'access denied'));
          return;
        }
        self._live(message.body);
      });
      self._state('open');
      if (resumed) {
        if (self.tenant) {
          self._replay();
        } else {
          self.onreload({ reason: 'reconnected; the all-tenant stream cannot be replayed' });
        }
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

  TrisyncEvents.prototype._live = function (event) {
    if (this.replaying) {
      this.buffer.push(event);
      return;
    }
    if (this.tenant && this.lastSeq !== null && event.seq > this.lastSeq + 1) {
      // A gap: fetch it, and hold live events until it is filled.
      this.buffer.push(event);
      this._replay();
      return;
    }
    this._deliver(event);
  };

  TrisyncEvents.prototype._deliver = function (event) {
    if (this.tenant) {
      if (this.lastSeq !== null && event.seq <= this.lastSeq) {
        return;
      }
      this.lastSeq = event.seq;
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
    eb.send(REPLAY, { afterSeq: self.lastSeq === null ? 0 : self.lastSeq }, function (err, reply) {
      if (self.eb !== eb) {
        return;
      }
      if (err) {
        self.onerror('replay failed: ' + (err.body || err.message));
        self._drain();
        return;
      }
      var body = reply.body;
      if (body.reload) {
        self.lastSeq = null;
        self.buffer = [];
        self.replaying = false;
        self.onreload(body);
        return;
      }
      body.events.forEach(function (e) { self._deliver(e); });
      if (body.more) {
        self._replay();
      } else {
        self._drain();
      }
    });
  };

  TrisyncEvents.prototype._drain = function () {
    var self = this;
    var held = self.buffer.sort(function (a, b) { return a.seq - b.seq; });
    self.buffer = [];
    self.replaying = false;
    held.forEach(function (e) { self._deliver(e); });
  };

  global.TrisyncEvents = TrisyncEvents;
})(this);
