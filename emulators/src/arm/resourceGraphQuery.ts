/**
 * The part of Resource Graph's query language (KQL) that a sweep sends, parsed into steps:
 * `Resources | where type in~ ('a', 'b') | project id, name, type, ...`. Supported: the `Resources`
 * table; `where <column> (== | =~ | in | in~) <string | (strings)>`, several joined by `and`;
 * `project <columns>`. Anything else is refused with the reason, as Resource Graph refuses a query it
 * cannot parse, rather than answered wrongly.
 */

/** The columns of Resource Graph's `Resources` table. */
export const RESOURCE_COLUMNS = [
  "id",
  "name",
  "type",
  "tenantId",
  "kind",
  "location",
  "resourceGroup",
  "subscriptionId",
  "managedBy",
  "sku",
  "plan",
  "properties",
  "tags",
  "identity",
  "zones",
  "extendedLocation",
] as const;

export interface Condition {
  column: string;
  /** Values to compare with; one for `==`/`=~`. */
  values: string[];
  caseInsensitive: boolean;
}

export type QueryStep = { kind: "where"; conditions: Condition[] } | { kind: "project"; columns: string[] };

export type ParsedQuery = { ok: true; steps: QueryStep[] } | { ok: false; reason: string };

type Token = { kind: "word" | "string" | "symbol"; text: string };

const TOKEN = /\s*(?:([A-Za-z_][A-Za-z0-9_]*~?|\d+)|'([^']*)'|"([^"]*)"|(=~|==|[|(),]))/y;

function tokenize(query: string): Token[] | { reason: string } {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < query.length) {
    const rest = query.slice(TOKEN.lastIndex);
    if (rest.trim() === "") break;
    const at = query.length - rest.trimStart().length;
    const match = TOKEN.exec(query);
    if (!match) return { reason: `unexpected character '${query[at]}' at position ${at + 1}` };
    const [, word, single, double, symbol] = match;
    if (word !== undefined) tokens.push({ kind: "word", text: word });
    else if (single !== undefined || double !== undefined)
      tokens.push({ kind: "string", text: single ?? double ?? "" });
    else tokens.push({ kind: "symbol", text: symbol ?? "" });
  }
  return tokens;
}

class Parser {
  #index = 0;
  readonly #tokens: Token[];
  constructor(tokens: Token[]) {
    this.#tokens = tokens;
  }

  get done(): boolean {
    return this.#index >= this.#tokens.length;
  }

  peek(): Token | undefined {
    return this.#tokens[this.#index];
  }

  next(what: string): Token {
    const token = this.#tokens[this.#index];
    if (!token) throw new QueryError(`expected ${what} at the end of the query`);
    this.#index += 1;
    return token;
  }

  expect(text: string): void {
    const token = this.next(`'${text}'`);
    if (token.text !== text) throw new QueryError(`expected '${text}' but found '${token.text}'`);
  }
}

class QueryError extends Error {}

/** Parses a query of the supported subset; columns are checked against what earlier steps leave. */
export function parseResourceGraphQuery(query: string): ParsedQuery {
  const tokens = tokenize(query);
  if (!Array.isArray(tokens)) return { ok: false, reason: tokens.reason };
  const parser = new Parser(tokens);
  try {
    const table = parser.next("a table name");
    if (table.text.toLowerCase() !== "resources") {
      throw new QueryError(`table '${table.text}' is not supported here (only Resources)`);
    }
    let columns: readonly string[] = RESOURCE_COLUMNS;
    const steps: QueryStep[] = [];
    while (!parser.done) {
      parser.expect("|");
      const operator = parser.next("an operator").text;
      if (operator === "where") {
        steps.push({ kind: "where", conditions: parseConditions(parser, columns) });
      } else if (operator === "project") {
        const projected = [parseColumn(parser, columns)];
        while (parser.peek()?.text === ",") {
          parser.next(",");
          projected.push(parseColumn(parser, columns));
        }
        columns = projected;
        steps.push({ kind: "project", columns: projected });
      } else {
        throw new QueryError(`operator '${operator}' is not supported here (only where and project)`);
      }
    }
    return { ok: true, steps };
  } catch (error) {
    if (error instanceof QueryError) return { ok: false, reason: error.message };
    throw error;
  }
}

function parseColumn(parser: Parser, columns: readonly string[]): string {
  const token = parser.next("a column name");
  // KQL column names are case-sensitive.
  if (token.kind !== "word" || !columns.includes(token.text)) {
    throw new QueryError(`failed to resolve scalar expression named '${token.text}'`);
  }
  return token.text;
}

function parseConditions(parser: Parser, columns: readonly string[]): Condition[] {
  const conditions = [parseCondition(parser, columns)];
  while (parser.peek()?.text === "and") {
    parser.next("and");
    conditions.push(parseCondition(parser, columns));
  }
  return conditions;
}

function parseCondition(parser: Parser, columns: readonly string[]): Condition {
  const column = parseColumn(parser, columns);
  const operator = parser.next("a comparison").text;
  if (operator === "==" || operator === "=~") {
    return { column, values: [parseString(parser)], caseInsensitive: operator === "=~" };
  }
  if (operator === "in" || operator === "in~") {
    parser.expect("(");
    const values = [parseString(parser)];
    while (parser.peek()?.text === ",") {
      parser.next(",");
      values.push(parseString(parser));
    }
    parser.expect(")");
    return { column, values, caseInsensitive: operator === "in~" };
  }
  throw new QueryError(`comparison '${operator}' is not supported here (only ==, =~, in, in~)`);
}

function parseString(parser: Parser): string {
  const token = parser.next("a string literal");
  if (token.kind !== "string") throw new QueryError(`expected a string literal but found '${token.text}'`);
  return token.text;
}
