/** Whether two sets of Automerge heads (change hashes, hex) name the same version, whatever their order. */
export function sameHeads(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((h) => b.includes(h))
}
