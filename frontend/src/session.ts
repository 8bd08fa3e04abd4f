// The bearer token lives in sessionStorage (per tab, gone when the tab closes).

export const TOKEN_KEY = "opbx.token";

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

function defaultStorage(): KeyValueStorage | null {
  try {
    return typeof sessionStorage === "undefined" ? null : sessionStorage;
  } catch {
    return null;
  }
}

export function loadToken(storage: KeyValueStorage | null = defaultStorage()): string | null {
  try {
    return storage?.getItem(TOKEN_KEY) || null;
  } catch {
    return null;
  }
}

export function saveToken(token: string, storage: KeyValueStorage | null = defaultStorage()): void {
  try {
    storage?.setItem(TOKEN_KEY, token);
  } catch {
    /* storage full or disabled: the session just won't survive a reload */
  }
}

export function clearToken(storage: KeyValueStorage | null = defaultStorage()): void {
  try {
    storage?.removeItem(TOKEN_KEY);
  } catch {
    /* ignore */
  }
}
