// Laravel Echo + pusher-js wiring. Kept thin: everything it does is forwarded to the
// handlers, and the connection's recovery is owned by ConnectionSupervisor.

import Echo from "laravel-echo";
import Pusher from "pusher-js";
import type { CallEvent, CallEventName, Member, RealtimeConfig, SyncPayload } from "./types";
import type { SocketControl } from "./connection";

export interface RealtimeHandlers {
  onEvent(event: CallEvent): void;
  /** The relay's `sync` on the organization's channel (every 10 s): its latest `seq`. */
  onSync(payload: SyncPayload): void;
  onHere(members: Member[]): void;
  onJoining(member: Member): void;
  onLeaving(member: Member): void;
  onStateChange(change: { previous: string; current: string }): void;
}

export interface RealtimeHandle {
  socket: SocketControl;
  /** pusher-js' connection state right after creation. */
  initialState: string;
  /**
   * Resolves once the organization's channel is subscribed on the current connection
   * (rejects after `ms`). A resync must wait for it: a snapshot read before the
   * subscription exists could miss an event published in between.
   */
  subscribed(ms: number): Promise<void>;
  close(): void;
}

export type RealtimeFactory = (
  config: RealtimeConfig,
  token: string,
  organizationId: string | number,
  handlers: RealtimeHandlers,
) => RealtimeHandle;

/** The call events the page applies, as published on the organization's channel. */
export const CALL_EVENT_NAMES: readonly CallEventName[] = ["call.initiated", "call.ringing", "call.answered", "call.ended"];

export function channelName(organizationId: string | number): string {
  return `org.${organizationId}`;
}

export function resolveWsHost(config: RealtimeConfig, fallbackHost: string): string {
  return config.ws_host && config.ws_host.trim() ? config.ws_host : fallbackHost;
}

export const connectRealtime: RealtimeFactory = (config, token, organizationId, handlers) => {
  const host = resolveWsHost(config, window.location.hostname);
  const echo = new Echo({
    broadcaster: "pusher",
    Pusher,
    key: config.key,
    cluster: "opbx",
    wsHost: host,
    wsPort: config.ws_port,
    wssPort: config.ws_port,
    forceTLS: config.force_tls,
    enabledTransports: ["ws", "wss"],
    authEndpoint: config.auth_endpoint,
    auth: { headers: { Authorization: `Bearer ${token}` } },
  });
  const pusher = echo.connector.pusher;
  let isSubscribed = false;
  let waiters: Array<() => void> = [];
  pusher.connection.bind("state_change", (change: { previous: string; current: string }) => {
    if (change.current !== "connected") isSubscribed = false; // pusher-js resubscribes on reconnect
    handlers.onStateChange(change);
  });

  const name = channelName(organizationId);
  const channel = echo
    .join(name)
    .here((members: Member[]) => {
      isSubscribed = true;
      for (const wake of waiters.splice(0)) wake();
      handlers.onHere(members);
    })
    .joining((member: Member) => handlers.onJoining(member))
    .leaving((member: Member) => handlers.onLeaving(member))
    .listen(".sync", (payload: SyncPayload) => handlers.onSync(payload));
  for (const event of CALL_EVENT_NAMES) {
    // Broadcast under their own names (no namespace): hence the leading dot.
    channel.listen(`.${event}`, (payload: CallEvent["payload"]) =>
      handlers.onEvent({ name: event, payload } as CallEvent),
    );
  }

  return {
    socket: {
      connect: () => pusher.connect(),
      disconnect: () => pusher.disconnect(),
    },
    initialState: String(pusher.connection.state),
    subscribed: (ms: number) =>
      isSubscribed
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            const wake = (): void => {
              clearTimeout(timer);
              resolve();
            };
            const timer = setTimeout(() => {
              waiters = waiters.filter((waiter) => waiter !== wake);
              reject(new Error(`not subscribed to ${name} within ${ms} ms`));
            }, ms);
            waiters.push(wake);
          }),
    close: () => {
      try {
        pusher.connection.unbind("state_change");
        echo.leave(name);
      } finally {
        echo.disconnect();
      }
    },
  };
};
