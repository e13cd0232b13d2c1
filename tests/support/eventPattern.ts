/**
 * The part of EventBridge's event-pattern matching this program's rules use, for tests: a pattern
 * field is either a nested pattern or a list of alternatives, each a literal value or `{ exists }`.
 * Semantics follow the EventBridge user guide: every field the pattern names must match; a list matches
 * when any alternative does (for an array value, when any element does); `{ exists: false }` matches a
 * field that is absent, including when a parent object is absent.
 */
type Pattern = { [field: string]: Pattern | Alternative[] };
type Alternative = string | number | boolean | null | { exists: boolean };

export function matchesPattern(pattern: Pattern, event: unknown): boolean {
  const node = (event !== null && typeof event === "object" ? event : {}) as Record<string, unknown>;
  return Object.entries(pattern).every(([field, rule]) => {
    const value = node[field];
    if (!Array.isArray(rule)) {
      // A nested pattern over an absent object: only `exists: false` leaves can match.
      return matchesPattern(rule, value);
    }
    return rule.some((alternative) => {
      if (alternative !== null && typeof alternative === "object") {
        if (!("exists" in alternative)) throw new Error(`unsupported operator ${JSON.stringify(alternative)}`);
        const present = value !== undefined && (value === null || typeof value !== "object" || Array.isArray(value));
        return alternative.exists === present;
      }
      return Array.isArray(value) ? value.includes(alternative) : value === alternative;
    });
  });
}
