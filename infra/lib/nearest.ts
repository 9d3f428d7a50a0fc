/** "Did you mean": the closest of `candidates` to a misspelt word, by edit distance ignoring case. */
import leven from "leven";

/**
 * The candidate nearest to `word`, when it is near enough to be the one meant (a third of its length, at least
 * 2 edits), or the one it abbreviates (`repo` -> `repository`).
 */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  const prefixOf = word.length >= 3 ? candidates.filter((c) => c.toLowerCase().startsWith(word.toLowerCase())) : [];
  if (prefixOf.length === 1) return prefixOf[0];
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = leven(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}
