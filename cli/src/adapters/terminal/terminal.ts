/**
 * Output streams of one scanctl run. Every line passes through the secret redactor on its way
 * out, and every human line through the control-character escape (JSON escapes its own). The
 * progress bar (cli-progress) is drawn on stderr, and only when both streams are terminals:
 * piped or redirected output never receives control characters.
 */
import { redactSecrets } from "@qcs/shared";
import { Presets, SingleBar } from "cli-progress";
import type { Progress, Terminal } from "../../core/ports.ts";
import { escapeControlCharacters, escapeControlCharactersButColours } from "../../core/terminalText.ts";

export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean | undefined;
}

const NO_PROGRESS: Progress = { update() {}, stop() {} };

export class StreamTerminal implements Terminal {
  readonly #stdout: OutputStream;
  readonly #stderr: OutputStream;

  constructor(stdout: OutputStream, stderr: OutputStream) {
    this.#stdout = stdout;
    this.#stderr = stderr;
  }

  out(text: string): void {
    this.#stdout.write(`${escapeControlCharacters(redactSecrets(text))}\n`);
  }

  err(text: string): void {
    this.#stderr.write(`${escapeControlCharacters(redactSecrets(text))}\n`);
  }

  painted(stream: "out" | "err", text: string): void {
    const line = `${escapeControlCharactersButColours(redactSecrets(text))}\n`;
    (stream === "out" ? this.#stdout : this.#stderr).write(line);
  }

  json(value: unknown): void {
    const text = JSON.stringify(
      value,
      (_key, member) => (typeof member === "bigint" ? member.toString() : member),
      2,
    );
    this.#stdout.write(`${redactSecrets(text)}\n`);
  }

  progress(label: string, total: number, enabled: boolean): Progress {
    if (!enabled || total <= 1 || !this.#stdout.isTTY || !this.#stderr.isTTY) return NO_PROGRESS;
    const bar = new SingleBar(
      {
        stream: this.#stderr as NodeJS.WritableStream,
        format: `${label} [{bar}] {value}/{total} {percentage}% eta {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: true,
        barsize: 30,
      },
      Presets.shades_classic,
    );
    bar.start(total, 0);
    return {
      update: (done) => bar.update(done),
      stop: () => bar.stop(),
    };
  }
}
