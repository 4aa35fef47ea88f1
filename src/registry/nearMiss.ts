/**
 * Finds the known name a misspelled member was probably meant to be ("did you mean preCreate?").
 */

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The candidate that `key` is a near miss of (same letters in another case, or a typo or two away), if any. */
export function nearMissOf(key: string, candidates: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === key) return undefined;
    const distance = editDistance(lower, candidate.toLowerCase());
    const allowed = candidate.length >= 6 ? 2 : candidate.length >= 4 ? 1 : 0;
    if (distance <= allowed && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** ` (did you mean "<candidate>"?)` when `key` is a near miss of one of `candidates`, else "". */
export function didYouMean(key: string, candidates: readonly string[]): string {
  const guess = nearMissOf(key, candidates);
  return guess === undefined ? "" : ` (did you mean "${guess}"?)`;
}
