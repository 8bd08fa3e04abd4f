import { describe, expect, it } from "vitest";
import { ApiError } from "./api";
import {
  assignableUsers,
  compareDigits,
  directoryReducer,
  EMPTY_DIRECTORY,
  extensionLabel,
  idFromSelect,
  refusalMessage,
  roleLabel,
  sameId,
  sortDids,
  sortExtensions,
  sortUsers,
  userLabel,
} from "./directory";
import type { Did, DirectoryUser, Extension } from "./types";

function user(id: number, name: string, extra: Partial<DirectoryUser> = {}): DirectoryUser {
  return {
    id,
    name,
    email: `${name.toLowerCase().replace(/\s+/g, ".")}@x.test`,
    role: "agent",
    organization_id: 1,
    disabled: false,
    created_at: "2025-01-01T00:00:00Z",
    ...extra,
  };
}

const ext = (id: number, number: string, user_id: number | null = null): Extension => ({
  id,
  number,
  organization_id: 1,
  user_id,
});
const did = (id: number, phone_number: string, extension_id: number | null = null): Did => ({
  id,
  phone_number,
  organization_id: 1,
  extension_id,
});

describe("directory", () => {
  it("sorts users by name, case-insensitively", () => {
    const sorted = sortUsers([user(1, "casey"), user(2, "Ada"), user(3, "blair")]);
    expect(sorted.map((u) => u.name)).toEqual(["Ada", "blair", "casey"]);
  });

  it("sorts extension numbers numerically", () => {
    expect(sortExtensions([ext(1, "110"), ext(2, "9"), ext(3, "101"), ext(4, "0101")]).map((e) => e.number)).toEqual([
      "9",
      "0101",
      "101",
      "110",
    ]);
    expect(compareDigits("99999999999999999", "100000000000000000")).toBeLessThan(0); // beyond Number precision
    expect(compareDigits("7", "7")).toBe(0);
  });

  it("sorts numbers", () => {
    expect(sortDids([did(1, "+4420"), did(2, "+1555"), did(3, "+33")]).map((d) => d.phone_number)).toEqual([
      "+1555",
      "+33",
      "+4420",
    ]);
  });

  it("loads, upserts and removes records, keeping them sorted", () => {
    let state = directoryReducer(EMPTY_DIRECTORY, {
      type: "loaded",
      users: [user(2, "Bo"), user(1, "Al")],
      extensions: [ext(2, "102"), ext(1, "101")],
      dids: [did(1, "+15550100200")],
    });
    expect(state.users.map((u) => u.id)).toEqual([1, 2]);
    state = directoryReducer(state, { type: "user", user: user(3, "Aaron") });
    expect(state.users.map((u) => u.id)).toEqual([3, 1, 2]);
    state = directoryReducer(state, { type: "user", user: user(2, "Bo", { role: "admin", disabled: true }) });
    expect(state.users.find((u) => u.id === 2)).toMatchObject({ role: "admin", disabled: true });
    expect(state.users).toHaveLength(3);

    state = directoryReducer(state, { type: "extension", extension: ext(1, "101", 3) });
    state = directoryReducer(state, { type: "extension", extension: ext(3, "100") });
    expect(state.extensions.map((e) => [e.number, e.user_id])).toEqual([
      ["100", null],
      ["101", 3],
      ["102", null],
    ]);
    state = directoryReducer(state, { type: "extension-deleted", id: 2 });
    expect(state.extensions.map((e) => e.id)).toEqual([3, 1]);

    state = directoryReducer(state, { type: "did", did: did(2, "+15550100100", 3) });
    state = directoryReducer(state, { type: "did", did: did(1, "+15550100200", 1) });
    expect(state.dids.map((d) => [d.id, d.extension_id])).toEqual([
      [2, 3],
      [1, 1],
    ]);
    state = directoryReducer(state, { type: "did-deleted", id: 2 });
    expect(state.dids.map((d) => d.id)).toEqual([1]);
  });

  it("labels users and extensions", () => {
    const users = [user(1, "Ada"), user(2, "Bo", { disabled: true })];
    expect(userLabel(users[0])).toBe("Ada");
    expect(userLabel(users[1])).toBe("Bo (disabled)");
    expect(userLabel(undefined)).toBe("Nobody");
    expect(extensionLabel(ext(1, "101", 1), users)).toBe("101 · Ada");
    expect(extensionLabel(ext(2, "102"), users)).toBe("102 · unassigned");
    expect(extensionLabel(ext(3, "103", 99), users)).toBe("103 · unassigned");
    expect(roleLabel("supervisor")).toBe("Supervisor");
    expect(roleLabel("owner")).toBe("owner");
  });

  it("offers enabled users, and keeps the current holder even when disabled", () => {
    const users = [user(1, "Ada"), user(2, "Bo", { disabled: true })];
    expect(assignableUsers(users).map((u) => u.id)).toEqual([1]);
    expect(assignableUsers(users, 2).map((u) => u.id)).toEqual([1, 2]);
  });

  it("reads ids from selects and compares ids of either type", () => {
    expect(idFromSelect("")).toBeNull();
    expect(idFromSelect("12")).toBe(12);
    expect(idFromSelect("x")).toBeNull();
    expect(sameId(1, "1")).toBe(true);
    expect(sameId(1, 2)).toBe(false);
    expect(sameId(null, null)).toBe(false);
  });

  it("shows the API's refusal, capitalised", () => {
    expect(refusalMessage(new ApiError(409, "user 1 is the organization's last active admin"))).toBe(
      "User 1 is the organization's last active admin",
    );
    expect(refusalMessage(new ApiError(0, "Failed to fetch"))).toBe("Cannot reach the server. Try again.");
    expect(refusalMessage(new Error("boom"))).toBe("Boom");
    expect(refusalMessage("weird")).toBe("Something went wrong. Try again.");
  });
});
