import { describe, expect, it } from "vitest";
import { membersReducer } from "./members";

const ada = { id: 1, name: "Ada", email: "ada@x", role: "admin" };
const bo = { id: 2, name: "Bo", email: "bo@x", role: "agent" };

describe("membersReducer", () => {
  it("here replaces the list, deduplicated by id and sorted by name", () => {
    const s = membersReducer([bo], { type: "here", members: [bo, ada, { ...ada }] });
    expect(s.map((m) => m.id)).toEqual([1, 2]);
  });

  it("joining adds once (string and number ids are the same member)", () => {
    let s = membersReducer([], { type: "joining", member: bo });
    s = membersReducer(s, { type: "joining", member: { ...bo, id: "2", name: "Bo B" } });
    s = membersReducer(s, { type: "joining", member: ada });
    expect(s.map((m) => m.name)).toEqual(["Ada", "Bo B"]);
  });

  it("leaving removes by id", () => {
    const s = membersReducer([ada, bo], { type: "leaving", member: { id: "1" } });
    expect(s).toEqual([bo]);
    expect(membersReducer(s, { type: "leaving", member: { id: 99 } })).toEqual([bo]);
  });

  it("clear empties", () => {
    expect(membersReducer([ada], { type: "clear" })).toEqual([]);
  });
});
