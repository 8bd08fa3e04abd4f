// Copy text: the async Clipboard API when the page may use it, else select the text for Ctrl+C.

export interface ClipboardLike {
  writeText(text: string): Promise<void>;
}

export interface CopyTarget {
  /** Select the text on screen (an <input>'s select()). */
  select(): void;
}

export type CopyOutcome = "copied" | "selected";

/**
 * "copied" when the text is on the clipboard; "selected" when it could only be selected
 * (no Clipboard API, insecure origin, permission refused), so the user presses Ctrl+C /
 * ⌘C. `execCommand` is the legacy copy of the selection, tried before giving up.
 */
export async function copyText(
  text: string,
  target: CopyTarget | null,
  clipboard: ClipboardLike | null | undefined,
  execCopy: () => boolean = () => false,
): Promise<CopyOutcome> {
  if (clipboard) {
    try {
      await clipboard.writeText(text);
      return "copied";
    } catch {
      /* fall through to selecting */
    }
  }
  target?.select();
  try {
    if (target && execCopy()) return "copied";
  } catch {
    /* selected is the best we can do */
  }
  return "selected";
}

/** The browser's own: navigator.clipboard and document.execCommand("copy"), where they exist. */
export function browserCopy(text: string, target: CopyTarget | null): Promise<CopyOutcome> {
  const clipboard = typeof navigator !== "undefined" && navigator.clipboard ? navigator.clipboard : null;
  const execCopy = () => typeof document !== "undefined" && document.execCommand("copy");
  return copyText(text, target, clipboard, execCopy);
}
