import { describe, expect, it } from "vitest";
import { copyText } from "./clipboard";

function target() {
  const t = { selected: 0, select: () => void (t.selected += 1) };
  return t;
}

describe("copyText", () => {
  it("uses the Clipboard API when it works", async () => {
    const written: string[] = [];
    const t = target();
    const outcome = await copyText("secret", t, { writeText: async (text) => void written.push(text) });
    expect(outcome).toBe("copied");
    expect(written).toEqual(["secret"]);
    expect(t.selected).toBe(0);
  });

  it("falls back to selecting the text (and the legacy copy) when the clipboard refuses", async () => {
    const t = target();
    const refused = { writeText: () => Promise.reject(new DOMException("denied", "NotAllowedError")) };
    expect(await copyText("x", t, refused)).toBe("selected");
    expect(t.selected).toBe(1);
    expect(await copyText("x", t, refused, () => true)).toBe("copied");
    expect(await copyText("x", t, null, () => false)).toBe("selected");
    expect(
      await copyText("x", t, undefined, () => {
        throw new Error("not supported");
      }),
    ).toBe("selected");
    expect(t.selected).toBe(4);
  });

  it("reports nothing copied without a target or clipboard", async () => {
    expect(await copyText("x", null, null, () => true)).toBe("selected");
  });
});
