/** Nesting of decoded config values, measured without recursion (a hostile value may be 100,000 levels deep). */

/** Deepest nesting a config value may have; Kiln's deepest key (teams[].budget) needs 3. */
export const MAX_CONFIG_NESTING = 32;

/** The path (`[0].budget[2]`) at which `value` nests deeper than `max` arrays/objects, or undefined. */
export function nestingPath(value: unknown, max = MAX_CONFIG_NESTING): string | undefined {
  const stack: { value: unknown; depth: number; path: string }[] = [{ value, depth: 0, path: "" }];
  while (stack.length > 0) {
    const { value: v, depth, path } = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth >= max) return path;
    for (const [k, child] of Object.entries(v))
      stack.push({ value: child, depth: depth + 1, path: Array.isArray(v) ? `${path}[${k}]` : `${path}.${k}` });
  }
  return undefined;
}
