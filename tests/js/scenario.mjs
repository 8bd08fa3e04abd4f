// Runs one client scenario against an OpBX realtime server and reports, as JSON
// lines on stdout, everything the clients observed.
//
//   node scenario.mjs <scenario>
//
// Settings come from the environment (see lib.mjs): OPBX_WS_HOST, OPBX_WS_PORT,
// OPBX_APP_KEY, OPBX_AUTH_ENDPOINT, OPBX_USER_AUTH_ENDPOINT and
// OPBX_SCENARIO_TIMEOUT_MS (the hang guard). A scenario prints
// {"type": "ready", "step": ...} where the test must act through the HTTP API (the
// pusher SDK); it then waits for the effect. It ends with {"type": "done"} (exit 0),
// or {"type": "timeout"} (exit 3) or {"type": "crash"} (exit 4).
//
// Scenarios wait only for causes and effects, never for time: to show that a
// client did NOT receive something, they wait for a later message that the
// server can only have sent after it (a barrier), and the test checks the record.

import { EchoClient, PusherClient, finish, ready, report, startGuard } from './lib.mjs';

const scenarios = {
  // Public channel: subscription_succeeded, then SDK events; `socket_id` excludes a client.
  async public() {
    const a = new PusherClient('a');
    const b = new PusherClient('b');
    for (const client of [a, b]) {
      await client.connected();
      client.subscribe('orders');
      for (const event of ['order-placed', 'order-updated', 'order-closed']) {
        client.listen('orders', event);
      }
      await client.waitForType('subscribed', 'orders');
    }
    ready('trigger', { socket_ids: { a: a.socketId, b: b.socketId } });
    // The test triggers order-placed, order-updated (socket_id of a) and order-closed, in turn.
    await a.waitForEvent('orders', 'order-closed');
    await b.waitForEvent('orders', 'order-closed');
  },

  // Private channels through the auth endpoint; refused ones leave the connection usable.
  async private() {
    const a = new PusherClient('a', { user: 'alice' });
    await a.connected();
    a.subscribe('private-denied-ledger'); // the endpoint answers 403
    a.subscribe('private-forged-ledger'); // the endpoint signs with the wrong secret
    await a.waitForType('subscription_error', 'private-denied-ledger');
    await a.waitForType('subscription_error', 'private-forged-ledger');
    a.subscribe('private-ledger');
    a.listen('private-ledger', 'entry-posted');
    await a.waitFor(
      (r) => (r.type === 'subscribed' || r.type === 'subscription_error') && r.channel === 'private-ledger',
      'outcome of private-ledger',
    );
    ready('trigger');
    await a.waitForEvent('private-ledger', 'entry-posted');
  },

  // Presence through laravel-echo: here/joining/leaving, one user on two sockets,
  // an SDK event heard with .listen('.call.initiated') and whispers.
  async presence() {
    const options = { listen: ['.call.initiated'], whispers: ['typing', 'seen'] };
    const a = new EchoClient('a', { user: 1 });
    await a.connected();
    a.join('org.1', options);
    await a.waitForType('here');

    const b1 = new EchoClient('b1', { user: 2 });
    await b1.connected();
    b1.join('org.1', options);
    await b1.waitForType('here');
    await a.waitForType('joining');

    const b2 = new EchoClient('b2', { user: 2 }); // the same user on a second socket
    await b2.connected();
    b2.join('org.1', options);
    await b2.waitForType('here');

    const c = new EchoClient('c', { user: 3 });
    await c.connected();
    c.join('org.1', options);
    await c.waitForType('here');
    // Barrier: a duplicate member_added for user 2 would reach a before user 3's.
    await a.waitFor((r) => r.type === 'joining' && r.member.id === 3, 'joining of user 3');

    ready('trigger');
    for (const client of [a, b1, b2, c]) {
      await client.waitForEvent('presence-org.1', '.call.initiated');
    }

    b1.whisper('org.1', 'typing', { typing: true });
    for (const client of [a, b2, c]) {
      await client.waitFor((r) => r.type === 'whisper' && r.whisper === 'typing', 'whisper typing');
    }
    // Barrier: b1's own whisper would have come back to it before this one.
    a.whisper('org.1', 'seen', { seen: true });
    await b1.waitFor((r) => r.type === 'whisper' && r.whisper === 'seen', 'whisper seen');

    await b1.disconnectAndWait(); // user 2 keeps a socket (b2): no member_removed yet
    // Barrier: a member_removed for user 2 caused by b1 would reach a before user 3's.
    await c.disconnectAndWait();
    await a.waitFor((r) => r.type === 'leaving' && r.member.id === 3, 'leaving of user 3');
    await b2.disconnectAndWait(); // user 2's last socket
    await a.waitFor((r) => r.type === 'leaving' && r.member.id === 2, 'leaving of user 2');
  },

  // An encrypted channel: the endpoint hands out the shared secret, pusher-js decrypts.
  async encrypted() {
    const a = new PusherClient('a', { user: 'alice' });
    await a.connected();
    a.subscribe('private-encrypted-vault');
    a.listen('private-encrypted-vault', 'secret-shared');
    await a.waitFor(
      (r) => (r.type === 'subscribed' || r.type === 'subscription_error') && r.channel === 'private-encrypted-vault',
      'outcome of private-encrypted-vault',
    );
    ready('trigger');
    await a.waitForEvent('private-encrypted-vault', 'secret-shared');
  },

  // Client events between two sockets on a private and on a presence channel.
  async 'client-events'() {
    const a = new PusherClient('a', { user: 'alice' });
    const b = new PusherClient('b', { user: 'bob' });
    for (const channel of ['private-chat.7', 'presence-chat.7']) {
      for (const client of [a, b]) {
        await client.connected();
        client.subscribe(channel);
        client.listen(channel, 'client-typing');
        client.listen(channel, 'client-ack');
        await client.waitFor(
          (r) => (r.type === 'subscribed' || r.type === 'subscription_error') && r.channel === channel,
          `outcome of ${channel}`,
        );
      }
      a.trigger(channel, 'client-typing', { typing: true, on: channel });
      await b.waitForEvent(channel, 'client-typing');
      // Barrier: a's own client-typing would have come back to a before b's answer.
      b.trigger(channel, 'client-ack', { ack: true, on: channel });
      await a.waitForEvent(channel, 'client-ack');
    }
  },

  // User sign-in: send_to_user reaches every socket of that user and no other.
  async signin() {
    const a1 = new PusherClient('a1', { user: 'alice' });
    const a2 = new PusherClient('a2', { user: 'alice' }); // the same user on a second socket
    const b = new PusherClient('b', { user: 'bob' });
    for (const client of [a1, a2, b]) {
      await client.connected();
      client.signin('order-shipped', 'invoice-ready');
      await client.signedIn();
    }
    ready('send');
    // The test sends order-shipped to alice, then invoice-ready to bob.
    await a1.waitFor((r) => r.type === 'user_event' && r.event === 'order-shipped', 'order-shipped');
    await a2.waitFor((r) => r.type === 'user_event' && r.event === 'order-shipped', 'order-shipped');
    // Barrier: an order-shipped wrongly sent to bob would reach b before invoice-ready.
    await b.waitFor((r) => r.type === 'user_event' && r.event === 'invoice-ready', 'invoice-ready');
  },

  // The server terminates a signed-in user's connections; another user's stay up.
  async terminate() {
    const a1 = new PusherClient('a1', { user: 'alice' });
    const a2 = new PusherClient('a2', { user: 'alice' });
    const b = new PusherClient('b', { user: 'bob' });
    for (const client of [a1, a2, b]) {
      await client.connected();
      client.signin('still-here');
      await client.signedIn();
    }
    ready('terminate');
    for (const client of [a1, a2]) {
      await client.waitForType('socket_closed');
      await client.waitForState('disconnected');
    }
    ready('after-terminate');
    await b.waitFor((r) => r.type === 'user_event' && r.event === 'still-here', 'still-here');
  },

  // A cache channel: cache_miss while empty, then the last event for a late subscriber.
  async cache() {
    const a = new PusherClient('a');
    await a.connected();
    a.subscribe('cache-quotes');
    a.listen('cache-quotes', 'quote');
    await a.waitForType('subscribed', 'cache-quotes');
    await a.waitForType('cache_miss', 'cache-quotes');
    ready('trigger');
    await a.waitForEvent('cache-quotes', 'quote');

    const b = new PusherClient('b');
    await b.connected();
    b.subscribe('cache-quotes');
    b.listen('cache-quotes', 'quote');
    await b.waitForType('subscribed', 'cache-quotes');
    await b.waitFor(
      (r) => (r.type === 'event' && r.event === 'quote') || r.type === 'cache_miss',
      'cached quote or cache_miss',
    );
  },
};

// The OpBX backend's own authorization (bearer tokens, /api/v1/broadcasting/auth):
// two members of one organization hear its calls; a member of it is refused another's.
scenarios.backend = async () => {
  const tokens = JSON.parse(process.env.OPBX_TOKENS);
  const org = process.env.OPBX_ORG;
  const otherOrg = process.env.OPBX_OTHER_ORG;
  const options = { listen: ['.call.initiated', '.call.answered', '.call.ended'] };
  const admin = new EchoClient('admin', { token: tokens.admin });
  await admin.connected();
  admin.join(`org.${org}`, options);
  await admin.waitForType('here');
  const agent = new EchoClient('agent', { token: tokens.agent });
  await agent.connected();
  agent.join(`org.${org}`, options);
  await agent.waitForType('here');
  await admin.waitForType('joining');
  agent.join(`org.${otherOrg}`, options);
  await agent.waitForType('subscription_error', `presence-org.${otherOrg}`);
  ready('calls');
  for (const client of [admin, agent]) {
    await client.waitForEvent(`presence-org.${org}`, '.call.ended');
  }
};

const name = process.argv[2];
if (!Object.hasOwn(scenarios, name ?? '')) {
  const known = Object.keys(scenarios).join(', ');
  report({ type: 'crash', scenario: name ?? null, error: `unknown scenario; known: ${known}` });
  process.exit(2);
}
const guard = startGuard(name);
report({ type: 'start', scenario: name });
await scenarios[name]();
finish(guard, name);
