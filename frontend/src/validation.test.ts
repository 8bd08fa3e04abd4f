import { describe, expect, it } from "vitest";
import {
  emailHint,
  extensionNumberHint,
  isE164,
  missingFields,
  missingMessage,
  normalizePhoneNumber,
  passwordHint,
  phoneNumberHint,
} from "./validation";

describe("validation hints", () => {
  it("normalises and checks E.164 numbers", () => {
    expect(normalizePhoneNumber(" +1 (555) 010-0400 ")).toBe("+15550100400");
    expect(normalizePhoneNumber("+44.20.7946.0000")).toBe("+442079460000");
    expect(isE164("+15550100400")).toBe(true);
    expect(isE164("+1 555 010 0400")).toBe(true);
    expect(isE164("+1")).toBe(false);
    expect(isE164("+0123")).toBe(false);
    expect(isE164("+1234567890123456")).toBe(false); // 16 digits
    expect(phoneNumberHint("")).toBeNull();
    expect(phoneNumberHint("+15550100400")).toBeNull();
    expect(phoneNumberHint("15550100400")).toMatch(/^Start with \+/);
    expect(phoneNumberHint("+0555")).toMatch(/country code/);
    expect(phoneNumberHint("+1555abc")).toMatch(/digits/);
    expect(phoneNumberHint("+1")).toMatch(/2 to 15 digits/);
  });

  it("checks extension numbers", () => {
    expect(extensionNumberHint("")).toBeNull();
    expect(extensionNumberHint(" 101 ")).toBeNull();
    expect(extensionNumberHint("10a")).toMatch(/Digits only/);
    expect(extensionNumberHint("12345678901234567")).toMatch(/16 digits/);
  });

  it("checks emails like the API", () => {
    expect(emailHint("")).toBeNull();
    expect(emailHint("dana@demo.opbx")).toBeNull();
    expect(emailHint("dana@demo")).not.toBeNull();
    expect(emailHint("dana")).not.toBeNull();
  });

  it("states the password rule", () => {
    expect(passwordHint("")).toBeNull();
    expect(passwordHint("short")).toBe("Too short: 5 of at least 10 characters.");
    expect(passwordHint("aaaaaaaaaaaa")).toMatch(/repeated/);
    expect(passwordHint("dana.dispatch", "Dana.Dispatch@demo.opbx")).toMatch(/email/);
    expect(passwordHint("correct horse battery", "dana@demo.opbx")).toBeNull();
  });

  it("names the missing fields", () => {
    const labels = { name: "name", email: "email", password: "password" };
    const form = { name: " ", email: "a@b.c", password: "", role: "agent" };
    expect(missingFields(form, labels)).toEqual(["name", "password"]);
    expect(missingMessage([])).toBeNull();
    expect(missingMessage(["name"])).toBe("Fill in name.");
    expect(missingMessage(["name", "password"])).toBe("Fill in name and password.");
    expect(missingMessage(["name", "email", "password"])).toBe("Fill in name, email and password.");
  });
});
