/**
 * Fault rules from outside the process: a JSON array of {@link FaultRule} objects, from a
 * `--…-faults <file>` flag or the body of `POST /_admin/faults`. Unknown fields are refused, so a
 * misspelt `retryAfter` fails loudly instead of injecting a different fault.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { formatIssuePath } from "../configFile.ts";
import type { FaultRule } from "./faults.ts";

const Rule = z.strictObject({
  resourceId: z.string().min(1).optional(),
  path: z.string().startsWith("/").optional(),
  status: z.number().int().min(100).max(599).optional(),
  retryAfterSeconds: z.number().int().min(0).optional(),
  delayMs: z.number().int().min(0).optional(),
  times: z.number().int().min(1).optional(),
});
const Rules = z.array(Rule);

export type ParsedFaultRules = { ok: true; rules: FaultRule[] } | { ok: false; problems: string[] };

export function parseFaultRules(json: unknown): ParsedFaultRules {
  const parsed = Rules.safeParse(json);
  if (parsed.success) return { ok: true, rules: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => `${formatIssuePath(issue.path)}: ${issue.message}`),
  };
}

/** Reads a fault file; throws naming the file and every problem, on one line. */
export async function readFaultFile(path: string): Promise<FaultRule[]> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new Error(`cannot read fault rules ${path}: ${(error as Error).message}`);
  }
  const parsed = parseFaultRules(json);
  if (!parsed.ok) throw new Error(`invalid fault rules ${path}: ${parsed.problems.join("; ")}`);
  return parsed.rules;
}
