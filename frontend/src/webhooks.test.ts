import { describe, expect, it } from "vitest";
import { joinUrl, webhookUrls } from "./webhooks";

const paths = {
  cdr: "/webhooks/cloudonix/cdr?org=7",
  "call-status": "/webhooks/cloudonix/call-status?org=7",
  "call-initiated": "/webhooks/cloudonix/call-initiated?org=7",
};

describe("webhooks", () => {
  it("builds the three URLs from the page's origin, in the usual order", () => {
    const base = "https://pbx.example.com/webhooks/cloudonix";
    expect(webhookUrls("https://pbx.example.com", paths)).toEqual([
      { kind: "call-initiated", label: "Call initiated", url: `${base}/call-initiated?org=7` },
      { kind: "call-status", label: "Call status", url: `${base}/call-status?org=7` },
      { kind: "cdr", label: "CDR (call detail record)", url: `${base}/cdr?org=7` },
    ]);
  });

  it("keeps kinds it does not know, after the known ones", () => {
    const urls = webhookUrls("http://127.0.0.1:8000", { "zz-new": "/webhooks/x?org=1", cdr: "/c" });
    expect(urls.map((u) => [u.kind, u.label, u.url])).toEqual([
      ["cdr", "CDR (call detail record)", "http://127.0.0.1:8000/c"],
      ["zz-new", "zz-new", "http://127.0.0.1:8000/webhooks/x?org=1"],
    ]);
    expect(webhookUrls("http://h", {})).toEqual([]);
  });

  it("joins without doubled or missing slashes", () => {
    expect(joinUrl("http://h/", "/a")).toBe("http://h/a");
    expect(joinUrl("http://h", "a")).toBe("http://h/a");
  });
});
