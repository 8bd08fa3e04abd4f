// Shared pieces of the Node scenarios: settings from the environment, JSON-line
// reporting, pusher-js and laravel-echo clients that record what they observe,
// and a hang guard so that a scenario always ends by itself.
//
// Every line written to stdout is one JSON object with a "type"; records about a
// client carry its name in "client". Diagnostics (pusher-js's own log) go to stderr.

import Pusher from 'pusher-js';
import Echo from 'laravel-echo';

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} must be set`);
  }
  return value;
}

export const settings = {
  host: process.env.OPBX_WS_HOST || '127.0.0.1',
  port: Number(required('OPBX_WS_PORT')),
  // Several nodes of a cluster: the clients take them in turn, in the order they are made.
  ports: (process.env.OPBX_WS_PORTS || required('OPBX_WS_PORT')).split(',').map(Number),
  key: required('OPBX_APP_KEY'),
  authEndpoint: required('OPBX_AUTH_ENDPOINT'),
  userAuthEndpoint: required('OPBX_USER_AUTH_ENDPOINT'),
  timeoutMs: Number(process.env.OPBX_SCENARIO_TIMEOUT_MS || 15000),
};

// pusher-js logs nothing by default; send its log to stderr so that a failing
// test shows it, without mixing it into the JSON lines on stdout.
Pusher.log = (message) => process.stderr.write(`[pusher-js] ${message}\n`);

// Pipes are written synchronously on Linux, so nothing is lost on process.exit.
export function report(record) {
  process.stdout.write(`${JSON.stringify(record)}\n`);
}

// A JSON-ready copy of what a client library handed us: no functions, no cycles,
// errors as name and message, and no deeper than a few levels (a WebSocket error
// event holds the whole socket).
function plain(value, ancestors = []) {
  if (value === undefined || typeof value === 'function') {
    return null;
  }
  if (value instanceof Error) {
    return { name: value.name, message: value.message };
  }
  if (typeof value !== 'object' || value === null) {
    return value;
  }
  if (ancestors.includes(value)) {
    return '[circular]';
  }
  if (ancestors.length >= 6) {
    return '[too deep]';
  }
  const inside = [...ancestors, value];
  if (Array.isArray(value)) {
    return value.map((item) => plain(item, inside));
  }
  const copy = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== undefined && typeof item !== 'function') {
      copy[key] = plain(item, inside);
    }
  }
  return copy;
}

const waiting = new Set();

// The hang guard: report what was still awaited and exit non-zero.
export function startGuard(scenario) {
  const timer = setTimeout(() => {
    report({ type: 'timeout', scenario, after_ms: settings.timeoutMs, waiting_for: [...waiting] });
    process.exit(3);
  }, settings.timeoutMs);
  const crash = (error) => {
    report({ type: 'crash', scenario, error: String(error && error.stack ? error.stack : error) });
    process.exit(4);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  return timer;
}

// The end: the connections close with the process (the server sees them go).
export function finish(timer, scenario) {
  clearTimeout(timer);
  report({ type: 'done', scenario });
  process.exit(0);
}

// Tell the test a step is reached; the test acts (through the pusher SDK) and the
// scenario goes on when it observes the effect.
export function ready(step, details = {}) {
  report({ type: 'ready', step, ...details });
}

class Recorder {
  constructor(name) {
    this.name = name;
    this.records = [];
    this.waiters = [];
  }

  record(record) {
    const full = { client: this.name, ...record };
    this.records.push(full);
    report(full);
    this.waiters = this.waiters.filter(({ predicate, resolve, description }) => {
      if (!predicate(full)) {
        return true;
      }
      waiting.delete(description);
      resolve(full);
      return false;
    });
  }

  // The first record (already seen or still to come) that matches.
  waitFor(predicate, what) {
    const found = this.records.find(predicate);
    if (found) {
      return Promise.resolve(found);
    }
    const description = `${this.name}: ${what}`;
    waiting.add(description);
    return new Promise((resolve) => {
      this.waiters.push({ predicate, resolve, description });
    });
  }

  waitForEvent(channel, event) {
    return this.waitFor(
      (r) => r.type === 'event' && r.channel === channel && r.event === event,
      `event ${event} on ${channel}`,
    );
  }

  waitForType(type, channel) {
    return this.waitFor(
      (r) => r.type === type && (channel === undefined || r.channel === channel),
      channel === undefined ? type : `${type} on ${channel}`,
    );
  }

  waitForState(state) {
    return this.waitFor((r) => r.type === 'state' && r.current === state, `state ${state}`);
  }

  async connected() {
    await this.waitForState('connected');
    return this.socketId;
  }

  // Close the connection and wait until the server has answered the close handshake:
  // the server queues the release of a socket (its presence leaves) as it answers, so
  // whatever another client does afterwards is handled after that release.
  disconnectAndWait() {
    this.disconnect();
    return this.waitForType('socket_closed');
  }
}

let clientsMade = 0;

// The port of the next client: the nodes of OPBX_WS_PORTS in turn (one node by default).
function nextPort() {
  return settings.ports[clientsMade++ % settings.ports.length];
}

// Where and how every test client connects (pusher-js and laravel-echo alike).
function connectionOptions() {
  return {
    wsHost: settings.host,
    wsPort: nextPort(),
    forceTLS: false,
    enabledTransports: ['ws'],
    disableStats: true,
    cluster: 'opbx-test',
  };
}

function pusherOptions(user) {
  const headers = user === undefined ? {} : { 'X-Opbx-User': String(user) };
  return {
    ...connectionOptions(),
    channelAuthorization: { endpoint: settings.authEndpoint, transport: 'ajax', headers },
    userAuthentication: { endpoint: settings.userAuthEndpoint, transport: 'ajax', headers },
  };
}

// Observe a pusher-js connection: its states, errors and every message on the wire.
function observeConnection(recorder, pusher) {
  const connection = pusher.connection;
  // The client starts connecting as it is built, before anyone can bind.
  recorder.record({ type: 'state', previous: null, current: connection.state });
  connection.bind('state_change', ({ previous, current }) => {
    recorder.record({ type: 'state', previous, current });
  });
  connection.bind('connected', () => {
    recorder.record({ type: 'connected', socket_id: connection.socket_id, port: pusher.config?.wsPort ?? null });
    // The WebSocket itself, for its close code: pusher-js keeps it to itself.
    const socket = connection.connection?.transport?.socket;
    socket?.addEventListener('close', (event) => {
      recorder.record({ type: 'socket_closed', code: event.code, reason: event.reason, clean: event.wasClean });
    });
  });
  connection.bind('error', (error) => {
    recorder.record({ type: 'connection_error', error: plain(error) });
  });
  connection.bind('message', (message) => {
    recorder.record({
      type: 'wire',
      event: message.event,
      channel: message.channel ?? null,
      data: plain(message.data),
      ...(message.user_id === undefined ? {} : { user_id: message.user_id }),
    });
  });
}

// One pusher-js connection.
export class PusherClient extends Recorder {
  constructor(name, { user } = {}) {
    super(name);
    this.pusher = new Pusher(settings.key, pusherOptions(user));
    this.channels = new Map();
    observeConnection(this, this.pusher);
  }

  get socketId() {
    return this.pusher.connection.socket_id;
  }

  // Subscribe and record the subscription's outcome and the cache events.
  subscribe(name) {
    const channel = this.pusher.subscribe(name);
    this.channels.set(name, channel);
    channel.bind('pusher:subscription_succeeded', (data) => {
      const members = data && data.members !== undefined ? plain(data.members) : undefined;
      this.record({
        type: 'subscribed',
        channel: name,
        ...(members === undefined ? {} : { members, me: plain(data.me), count: data.count }),
      });
    });
    channel.bind('pusher:subscription_error', (error) => {
      this.record({ type: 'subscription_error', channel: name, error: plain(error) });
    });
    channel.bind('pusher:cache_miss', () => {
      this.record({ type: 'cache_miss', channel: name });
    });
    return channel;
  }

  // Record every `event` on `name`, with the metadata pusher-js passes (user_id).
  listen(name, event) {
    this.channels.get(name).bind(event, (data, metadata) => {
      this.record({ type: 'event', channel: name, event, data: plain(data), metadata: plain(metadata) });
    });
  }

  trigger(name, event, data) {
    const sent = this.channels.get(name).trigger(event, data);
    this.record({ type: 'triggered', channel: name, event, data: plain(data), sent });
  }

  // pusher.signin() and record the events sent to this user.
  signin(...events) {
    for (const event of events) {
      this.pusher.user.bind(event, (data) => {
        this.record({ type: 'user_event', event, data: plain(data) });
      });
    }
    this.pusher.signin();
  }

  async signedIn() {
    await this.waitFor((r) => r.type === 'wire' && r.event === 'pusher:signin_success', 'pusher:signin_success');
    await this.pusher.user.signinDonePromise;
    const userData = this.pusher.user.user_data;
    this.record({ type: 'signed_in', user_data: plain(userData) });
    return userData;
  }

  disconnect() {
    this.pusher.disconnect();
  }
}

// One laravel-echo instance over pusher-js, the way a Laravel front end sets it up.
export class EchoClient extends Recorder {
  // `user` names a test user for the test's own auth endpoint; `token` is a bearer
  // token for the OpBX API's /api/v1/broadcasting/auth, as the dashboard sends it.
  constructor(name, { user, token } = {}) {
    super(name);
    this.echo = new Echo({
      broadcaster: 'pusher',
      Pusher,
      key: settings.key,
      ...connectionOptions(),
      authEndpoint: settings.authEndpoint,
      auth: { headers: token ? { Authorization: `Bearer ${token}` } : { 'X-Opbx-User': String(user) } },
    });
    this.pusher = this.echo.connector.pusher;
    observeConnection(this, this.pusher);
  }

  get socketId() {
    return this.echo.socketId();
  }

  // Echo.join(name) with here/joining/leaving and the given listeners and whispers.
  join(name, { listen = [], whispers = [] } = {}) {
    const channel = this.echo.join(name);
    const full = `presence-${name}`;
    channel
      .here((members) => this.record({ type: 'here', channel: full, members: plain(members) }))
      .joining((member) => this.record({ type: 'joining', channel: full, member: plain(member) }))
      .leaving((member) => this.record({ type: 'leaving', channel: full, member: plain(member) }))
      .error((error) => this.record({ type: 'subscription_error', channel: full, error: plain(error) }));
    for (const event of listen) {
      channel.listen(event, (data, metadata) => {
        this.record({ type: 'event', channel: full, event, data: plain(data), metadata: plain(metadata) });
      });
    }
    for (const whisper of whispers) {
      channel.listenForWhisper(whisper, (data, metadata) => {
        this.record({ type: 'whisper', channel: full, whisper, data: plain(data), metadata: plain(metadata) });
      });
    }
    return channel;
  }

  whisper(name, whisper, data) {
    this.echo.join(name).whisper(whisper, data);
    this.record({ type: 'whispered', channel: `presence-${name}`, whisper, data: plain(data) });
  }

  disconnect() {
    this.echo.disconnect();
  }
}
