// Who's online: the presence channel's here/joining/leaving, deduplicated by id.

import type { Member } from "./types";

export type MembersAction =
  | { type: "here"; members: readonly Member[] }
  | { type: "joining"; member: Member }
  | { type: "leaving"; member: Pick<Member, "id"> }
  | { type: "clear" };

function byName(a: Member, b: Member): number {
  return (a.name ?? "").localeCompare(b.name ?? "") || String(a.id).localeCompare(String(b.id));
}

function dedupe(members: readonly Member[]): Member[] {
  const seen = new Map<string, Member>();
  for (const m of members) {
    if (m && m.id !== undefined && m.id !== null) seen.set(String(m.id), m);
  }
  return [...seen.values()].sort(byName);
}

export function membersReducer(state: readonly Member[], action: MembersAction): Member[] {
  switch (action.type) {
    case "here":
      return dedupe(action.members);
    case "joining":
      return dedupe([...state.filter((m) => String(m.id) !== String(action.member.id)), action.member]);
    case "leaving":
      return state.filter((m) => String(m.id) !== String(action.member.id));
    case "clear":
      return [];
  }
}
