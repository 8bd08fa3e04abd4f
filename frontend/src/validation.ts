// Hints shown while filling in the Settings forms (pure). The API stays the judge: a form is
// sent as soon as its required fields are filled in, and the API's refusal is what is shown.

/** The API's rule (opbx.directory.rules.PASSWORD_RULE), stated before anyone trips over it. */
export const MIN_PASSWORD_LENGTH = 10;
export const PASSWORD_RULE =
  `At least ${MIN_PASSWORD_LENGTH} characters; not a commonly used password, one repeated character, ` +
  "or the email address.";

const E164 = /^\+[1-9][0-9]{1,14}$/;
const EXTENSION = /^[0-9]{1,16}$/;
const EMAIL = /^[^@\s]{1,64}@[^@\s]+\.[^@\s.]+$/;

/** "+1 (555) 010-0100" → "+15550100100": spaces, dots, dashes and brackets people type are dropped. */
export function normalizePhoneNumber(value: string): string {
  return value.replace(/[\s().\-\u00a0]/g, "");
}

export function isE164(value: string): boolean {
  return E164.test(normalizePhoneNumber(value));
}

/** Null when fine (or empty); else what is wrong, in the API's terms. */
export function phoneNumberHint(value: string): string | null {
  const number = normalizePhoneNumber(value);
  if (!number || E164.test(number)) return null;
  if (!number.startsWith("+")) return "Start with + and the country code, like +15550100100.";
  if (number.startsWith("+0")) return "A country code does not start with 0.";
  if (/[^+0-9]/.test(number.slice(1)) || number.indexOf("+", 1) !== -1) return "Only digits after the +.";
  return "E.164 numbers have 2 to 15 digits after the +.";
}

export function extensionNumberHint(value: string): string | null {
  const number = value.trim();
  if (!number || EXTENSION.test(number)) return null;
  return /[^0-9]/.test(number) ? "Digits only, like 101." : "At most 16 digits.";
}

export function emailHint(value: string): string | null {
  const email = value.trim();
  if (!email || EMAIL.test(email)) return null;
  return "An email address like name@example.com.";
}

export function passwordHint(password: string, email = ""): string | null {
  if (!password) return null;
  if (password.length < MIN_PASSWORD_LENGTH) {
    return `Too short: ${password.length} of at least ${MIN_PASSWORD_LENGTH} characters.`;
  }
  if (new Set(password).size === 1) return "Not one repeated character.";
  const lowered = password.toLowerCase();
  const address = email.trim().toLowerCase();
  if (address && (lowered === address || lowered === address.split("@")[0])) return "Not the email address.";
  return null;
}

/** The fields still empty (trimmed), in the order given: the form says which before sending. */
export function missingFields<K extends string>(
  fields: Record<NoInfer<K>, string>,
  labels: Record<K, string>,
): string[] {
  return (Object.keys(labels) as K[]).filter((key) => !fields[key].trim()).map((key) => labels[key]);
}

/** "Fill in name and password." */
export function missingMessage(missing: readonly string[]): string | null {
  if (missing.length === 0) return null;
  const names =
    missing.length === 1
      ? missing[0]
      : `${missing.slice(0, -1).join(", ")} and ${missing[missing.length - 1]}`;
  return `Fill in ${names}.`;
}
