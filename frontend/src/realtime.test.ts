import { describe, expect, it } from "vitest";
import { CALL_EVENT_NAMES, channelName, resolveWsHost } from "./realtime";
import type { RealtimeConfig } from "./types";

const config: RealtimeConfig = {
  key: "k",
  ws_host: "rt.example",
  ws_port: 6001,
  force_tls: false,
  auth_endpoint: "/api/v1/broadcasting/auth",
};

describe("realtime helpers", () => {
  it("names the organization's presence channel", () => {
    expect(channelName(5)).toBe("org.5");
    expect(channelName("abc")).toBe("org.abc");
  });

  it("falls back to the page's host when ws_host is empty or null", () => {
    expect(resolveWsHost(config, "page.host")).toBe("rt.example");
    expect(resolveWsHost({ ...config, ws_host: "" }, "page.host")).toBe("page.host");
    expect(resolveWsHost({ ...config, ws_host: null }, "page.host")).toBe("page.host");
    expect(resolveWsHost({ ...config, ws_host: "  " }, "page.host")).toBe("page.host");
  });

  it("listens to the four call events, ringing included", () => {
    expect([...CALL_EVENT_NAMES].sort()).toEqual(["call.answered", "call.ended", "call.initiated", "call.ringing"]);
  });
});
