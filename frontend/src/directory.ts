// Settings' view of the directory: one reducer for users, extensions and numbers, sorting and labels (pure).

import { ApiError } from "./api";
import type { Did, DirectoryUser, Extension, Role } from "./types";

export const ROLES: readonly Role[] = ["admin", "supervisor", "agent"];

export const ROLE_LABELS: Record<Role, string> = {
  admin: "Admin",
  supervisor: "Supervisor",
  agent: "Agent",
};

export function roleLabel(role: string): string {
  return ROLE_LABELS[role as Role] ?? role;
}

export interface DirectoryState {
  users: DirectoryUser[];
  extensions: Extension[];
  dids: Did[];
}

export const EMPTY_DIRECTORY: DirectoryState = { users: [], extensions: [], dids: [] };

export type DirectoryAction =
  | { type: "loaded"; users: DirectoryUser[]; extensions: Extension[]; dids: Did[] }
  | { type: "user"; user: DirectoryUser }
  | { type: "extension"; extension: Extension }
  | { type: "extension-deleted"; id: number }
  | { type: "did"; did: Did }
  | { type: "did-deleted"; id: number };

/** Replace the record with the same id, or add it. */
export function upsert<T extends { id: number }>(list: readonly T[], record: T): T[] {
  const index = list.findIndex((item) => item.id === record.id);
  if (index === -1) return [...list, record];
  const next = [...list];
  next[index] = record;
  return next;
}

export function removeById<T extends { id: number }>(list: readonly T[], id: number): T[] {
  return list.filter((item) => item.id !== id);
}

export function directoryReducer(state: DirectoryState, action: DirectoryAction): DirectoryState {
  switch (action.type) {
    case "loaded":
      return {
        users: sortUsers(action.users),
        extensions: sortExtensions(action.extensions),
        dids: sortDids(action.dids),
      };
    case "user":
      return { ...state, users: sortUsers(upsert(state.users, action.user)) };
    case "extension":
      return { ...state, extensions: sortExtensions(upsert(state.extensions, action.extension)) };
    case "extension-deleted":
      return { ...state, extensions: removeById(state.extensions, action.id) };
    case "did":
      return { ...state, dids: sortDids(upsert(state.dids, action.did)) };
    case "did-deleted":
      return { ...state, dids: removeById(state.dids, action.id) };
  }
}

const collator = new Intl.Collator("en", { sensitivity: "base", numeric: true });

/** By name (case-insensitive), then email. */
export function sortUsers(users: readonly DirectoryUser[]): DirectoryUser[] {
  return [...users].sort((a, b) => collator.compare(a.name, b.name) || collator.compare(a.email, b.email));
}

/** Digit strings in numeric order (9 before 10); a leading zero sorts first among equals (01 before 1). */
export function compareDigits(a: string, b: string): number {
  const strip = (value: string) => value.replace(/^0+(?=.)/, "");
  const x = strip(a);
  const y = strip(b);
  if (x.length !== y.length) return x.length - y.length;
  if (x !== y) return x < y ? -1 : 1;
  return b.length - a.length || (a < b ? -1 : a > b ? 1 : 0);
}

export function sortExtensions(extensions: readonly Extension[]): Extension[] {
  return [...extensions].sort((a, b) => compareDigits(a.number, b.number) || a.id - b.id);
}

export function sortDids(dids: readonly Did[]): Did[] {
  return [...dids].sort((a, b) => (a.phone_number < b.phone_number ? -1 : a.phone_number > b.phone_number ? 1 : 0));
}

export function userLabel(user: DirectoryUser | undefined): string {
  if (!user) return "Nobody";
  return user.disabled ? `${user.name} (disabled)` : user.name;
}

/** "101 · Ada Admin", "102 · unassigned". */
export function extensionLabel(extension: Extension, users: readonly DirectoryUser[]): string {
  const user = extension.user_id === null ? undefined : users.find((u) => u.id === extension.user_id);
  return `${extension.number} · ${user ? userLabel(user) : "unassigned"}`;
}

/** The users an extension may go to: enabled ones, plus whoever has it now (even if disabled). */
export function assignableUsers(users: readonly DirectoryUser[], currentUserId: number | null = null): DirectoryUser[] {
  return users.filter((user) => !user.disabled || user.id === currentUserId);
}

export function sameId(a: number | string | null | undefined, b: number | string | null | undefined): boolean {
  return a !== null && a !== undefined && b !== null && b !== undefined && String(a) === String(b);
}

/** A `<select>` value for an optional id: "" is none. */
export function idFromSelect(value: string): number | null {
  if (value === "") return null;
  const id = Number(value);
  return Number.isSafeInteger(id) ? id : null;
}

/** What to show when the API refuses: its message, capitalised; a plain word when it could not be reached. */
export function refusalMessage(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return "Cannot reach the server. Try again.";
    if (error.status === 403 && !error.message) return "Only admins can change settings.";
    return capitalise(error.message);
  }
  return error instanceof Error && error.message ? capitalise(error.message) : "Something went wrong. Try again.";
}

export function capitalise(text: string): string {
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}
