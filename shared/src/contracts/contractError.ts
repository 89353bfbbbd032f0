import type { z } from "zod";

export interface ContractIssue {
  /** Dotted path of the offending field (`image.ref`, `sources.0.kind`), or `(message)` for the whole. */
  field: string;
  message: string;
}

/** A message or body that does not satisfy its contract. Names every offending field. */
export class ContractError extends Error {
  override readonly name = "ContractError";
  readonly code = "CONTRACT_VIOLATION";
  readonly contract: string;
  readonly issues: readonly ContractIssue[];
  constructor(contract: string, issues: readonly ContractIssue[]) {
    super(`${contract}: ${issues.map((issue) => `${issue.field}: ${issue.message}`).join("; ")}`);
    this.contract = contract;
    this.issues = issues;
  }

  static fromZod(contract: string, error: z.ZodError): ContractError {
    return new ContractError(
      contract,
      error.issues.map((issue) => ({
        field: issue.path.length > 0 ? issue.path.map(String).join(".") : "(message)",
        message: issue.message,
      })),
    );
  }
}

export function isContractError(error: unknown): error is ContractError {
  return error instanceof Error && error.name === "ContractError";
}
