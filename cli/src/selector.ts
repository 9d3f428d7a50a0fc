/** Label selectors as Kiln writes them, evaluated in memory: `k=v`, `k` (exists) and `!k` (absent), comma-separated. */
export function matchesSelector(selector: string | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return true;
  return selector.split(",").every((term) => {
    if (term.startsWith("!")) return labels?.[term.slice(1)] === undefined;
    const eq = term.indexOf("=");
    return eq < 0 ? labels?.[term] !== undefined : labels?.[term.slice(0, eq)] === term.slice(eq + 1);
  });
}
