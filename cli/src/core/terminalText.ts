/**
 * Text from messages (a dead letter's subject, description, properties, body) is attacker-chosen:
 * printed raw, control characters could move the cursor, rewrite earlier lines, retitle the
 * window or set the clipboard. Human output shows them as visible `\u001b` escapes instead.
 */

/** C0 controls except tab and newline, DEL, and C1 controls (Unicode category Cc). */
const CONTROL = /[^\P{Cc}\t\n]/gu;
/** Select Graphic Rendition (colours, bold): the only sequences the local stack's own lines use. */
const SGR = new RegExp(`(${String.fromCharCode(0x1b)}\\[[0-9;]*m)`, "u");

const visible = (char: string) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;

export function escapeControlCharacters(text: string): string {
  return text.replace(CONTROL, visible);
}

/** As {@link escapeControlCharacters}, but colour sequences stay: for lines the local stack paints. */
export function escapeControlCharactersButColours(text: string): string {
  return text
    .split(SGR)
    .map((part, index) => (index % 2 === 1 ? part : escapeControlCharacters(part)))
    .join("");
}
