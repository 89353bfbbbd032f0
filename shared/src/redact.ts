/**
 * Removes secrets from text that leaves the process: log lines, error messages, dead-letter
 * descriptions, command output. Two layers: patterns for secrets that have a recognisable shape
 * (connection-string keys, SAS signatures, bearer tokens, JWTs), and exact values that configuration
 * registered as secret (a Qualys token or API key has no shape to recognise).
 */

export const REDACTED = "[REDACTED]";

const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  // Connection strings: Service Bus / Event Hubs (SharedAccessKey), Storage (AccountKey), SAS in strings.
  [
    /(SharedAccessKey|AccountKey|SharedAccessSignature|AccessKey|Password|ClientSecret)=([^;"'\s]+)/gi,
    `$1=${REDACTED}`,
  ],
  // URL / form parameters that carry credentials (SAS sig, OAuth tokens).
  [
    /([?&;\s"'](?:sig|access_token|refresh_token|client_secret|password|token)=)([^&;"'\s]+)/gi,
    `$1${REDACTED}`,
  ],
  // HTTP authorization values.
  [/\b(Bearer|Basic|SharedAccessSignature)\s+[A-Za-z0-9._~+/=%-]{8,}/g, `$1 ${REDACTED}`],
  // JSON Web Tokens anywhere (Entra, Qualys access tokens are JWTs).
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, REDACTED],
];

/** Values shorter than this are not registered: redacting "1" everywhere would destroy logs. */
const MIN_SECRET_LENGTH = 6;

export class SecretRedactor {
  /** Longest first, so a value inside another's escaped form never leaves a stray escape behind. */
  #values: string[] = [];

  /** Registers an exact secret value (a token read from configuration) to be removed everywhere. */
  addSecret(value: string | undefined): void {
    if (value === undefined || value.length < MIN_SECRET_LENGTH) return;
    // A JSON log line carries the value escaped (`"` → `\"`, newline → `\n`), which the raw form misses.
    const forms = [...new Set([value, JSON.stringify(value).slice(1, -1)])].filter(
      (form) => !this.#values.includes(form),
    );
    if (forms.length === 0) return;
    this.#values = [...this.#values, ...forms].sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    let out = text;
    for (const value of this.#values) {
      if (out.includes(value)) out = out.split(value).join(REDACTED);
    }
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
    return out;
  }
}

/** The process-wide redactor: configuration registers secrets here, the logger applies it. */
export const secretRedactor = new SecretRedactor();

export function redactSecrets(text: string): string {
  return secretRedactor.redact(text);
}
