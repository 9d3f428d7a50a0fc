/**
 * A nesting limit for YAML/JSON text, checked before it is parsed: the yaml package composes documents
 * recursively, so 1,000 nested `[` overflow the stack. The check runs yaml's own lexer and CST parser,
 * which keep their nesting on an explicit stack, and names the field where the limit is passed.
 */
import { type CST, Lexer, Parser } from "yaml";

/** Deepest nesting a run spec may have: the schema needs 4 levels; 32 leaves room for any mistake to be named by it. */
export const MAX_NESTING = 32;

/** The path of the open collection entries, e.g. `dataset.features[0]`; after 8 segments, `...`. */
function pathOf(stack: readonly CST.Token[]): string {
  const segments: string[] = [];
  for (const token of stack) {
    if (token.type !== "block-map" && token.type !== "block-seq" && token.type !== "flow-collection") continue;
    const items = token.items;
    const isSeq =
      token.type === "block-seq" || (token.type === "flow-collection" && token.start.type === "flow-seq-start");
    if (isSeq) segments.push(`[${Math.max(0, items.length - 1)}]`);
    else {
      const key = items.at(-1)?.key;
      const name =
        key && "source" in key && typeof key.source === "string" ? key.source.replace(/^(["'])(.*)\1$/s, "$2") : "?";
      segments.push(segments.length === 0 ? name.slice(0, 40) : `.${name.slice(0, 40)}`);
    }
  }
  return segments.slice(0, 8).join("") + (segments.length > 8 ? "..." : "");
}

/** Where `text` nests deeper than `max` collections, as `{path, line}`; undefined when it does not. */
export function tooDeep(text: string, max = MAX_NESTING): { path: string; line: number } | undefined {
  const parser = new Parser();
  for (const lexeme of new Lexer().lex(text)) {
    for (const _ of parser.next(lexeme)) void _;
    // Collections only ever open one per lexeme, so the stack's length bounds the depth cheaply.
    if (parser.stack.length <= max) continue;
    const depth = parser.stack.filter(
      (t) => t.type === "block-map" || t.type === "block-seq" || t.type === "flow-collection",
    ).length;
    if (depth > max) {
      const offset = parser.stack.at(-1)?.offset ?? 0;
      return { path: pathOf(parser.stack) || "spec", line: text.slice(0, offset).split("\n").length };
    }
  }
  return undefined;
}
