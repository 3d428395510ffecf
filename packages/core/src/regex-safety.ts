/**
 * A static check for regexes that could backtrack catastrophically (exponential time on a
 * crafted log line), run once at start-up on every `<logformat>` regex (spec: daemon.md §1).
 * Pure. Inside a repetition that can run more than 10 times (`*`, `+`, `{n,}`, `{n,m}` with
 * m > 10), three shapes are refused:
 * - a nested repetition (star height > 1): `(a+)+`, `(.*)*`, `(\w+\s?)+`, unless every
 *   iteration must contain a delimiter character that no inner repetition can match, with all
 *   inner repetitions on one side of it (`[a-z]+(?:,[a-z]+)*` and `(?:\d+\.)+` are fine);
 * - alternatives that can start with the same character: `(a|ab)*`, `(\w|\d)+`, `(.|\s)*`;
 * - an optional or repeated item followed by one that can start with the same character:
 *   `(?:,?,?x)*`, `(?:a*a*,)+`.
 * It is conservative (some safe regexes are refused: rewrite `(a|ab)*` as `(ab?)*`) and
 * polynomial blow-ups (`.*.*.*x`) are not detected: on log-line lengths they stay bounded.
 */
import type { CharSet } from "./char-set.ts";
import { complement, emptySet, overlaps, unionInto } from "./char-set.ts";
import type { RegexNode } from "./parse-regex.ts";
import { parseRegex } from "./parse-regex.ts";

/** What makes a regex unsafe, and the part of the source that shows it. */
export interface RegexHazard {
  kind: "nested-repetition" | "overlapping-alternatives" | "ambiguous-sequence";
  /** The offending repetition, as written. */
  fragment: string;
}

const MAX_SAFE_REPEAT = 10;

function isRepeating(node: RegexNode): boolean {
  return node.kind === "repeat" && node.max > MAX_SAFE_REPEAT;
}

/** Whether `node` can match a non-empty string. */
function consumes(node: RegexNode): boolean {
  switch (node.kind) {
    case "alt":
      return node.alts.some(consumes);
    case "seq":
      return node.items.some(consumes);
    case "group":
      return !node.look && consumes(node.body);
    case "repeat":
      return node.max > 0 && consumes(node.body);
    case "chars":
    case "backref":
      return true;
    case "assert":
      return false;
  }
}

/** Whether `node` can match the empty string. */
function nullable(node: RegexNode): boolean {
  switch (node.kind) {
    case "alt":
      return node.alts.some(nullable);
    case "seq":
      return node.items.every(nullable);
    case "group":
      return node.look || nullable(node.body);
    case "repeat":
      return node.min === 0 || nullable(node.body);
    case "chars":
      return false;
    case "assert":
    case "backref":
      return true;
  }
}

/** The characters a non-empty match of `node` can start with (an over-approximation). */
function first(node: RegexNode): CharSet {
  const set = emptySet();
  switch (node.kind) {
    case "alt":
      for (const a of node.alts) unionInto(set, first(a));
      break;
    case "seq":
      for (const item of node.items) {
        unionInto(set, first(item));
        if (!nullable(item)) break;
      }
      break;
    case "group":
      if (!node.look) unionInto(set, first(node.body));
      break;
    case "repeat":
      if (node.max > 0) unionInto(set, first(node.body));
      break;
    case "chars":
      unionInto(set, node.set);
      break;
    case "backref":
      return complement(emptySet());
    case "assert":
      break;
  }
  return set;
}

function children(node: RegexNode): RegexNode[] {
  switch (node.kind) {
    case "alt":
      return node.alts;
    case "seq":
      return node.items;
    case "group":
    case "repeat":
      return [node.body];
    default:
      return [];
  }
}

/** The characters repetitions (max > 1) and back-references inside `node` can consume. */
function repeatedChars(node: RegexNode, inRepeat = false): CharSet {
  const set = emptySet();
  if (node.kind === "backref") return complement(emptySet());
  if (node.kind === "chars" && inRepeat) unionInto(set, node.set);
  const deeper = inRepeat || (node.kind === "repeat" && node.max > 1);
  for (const child of children(node))
    unionInto(set, repeatedChars(child, deeper));
  return set;
}

function hasRepetition(node: RegexNode): boolean {
  if (node.kind === "backref" || (node.kind === "repeat" && node.max > 1)) {
    return true;
  }
  return children(node).some(hasRepetition);
}

/** `node` as a sequence: plain groups around a sequence are unwrapped. */
function sequenceOf(node: RegexNode): RegexNode[] {
  if (node.kind === "group" && !node.look) return sequenceOf(node.body);
  if (node.kind === "seq") return node.items.flatMap(sequenceOf);
  return [node];
}

/** A mandatory single character (`,`, `\.`, `[;|]`), or undefined. */
function singleChar(node: RegexNode): CharSet | undefined {
  if (node.kind === "chars") return node.set;
  if (node.kind === "group" && !node.look) return singleChar(node.body);
  if (node.kind === "seq" && node.items.length === 1 && node.items[0]) {
    return singleChar(node.items[0]);
  }
  return undefined;
}

/**
 * Whether each iteration of `loop` holds a delimiter: a mandatory character that no repetition
 * in the body can match, with every repetition on the same side of it. Iterations then cannot
 * share text, so nesting does not multiply the ways to match.
 */
function isDelimited(loop: RegexNode & { kind: "repeat" }): boolean {
  const items = sequenceOf(loop.body);
  const reps = items.map(hasRepetition);
  return items.some((item, i) => {
    const delimiter = singleChar(item);
    if (delimiter === undefined) return false;
    const others = emptySet();
    items.forEach((other, j) => {
      if (j !== i) unionInto(others, repeatedChars(other));
    });
    if (overlaps(delimiter, others)) return false;
    return !(reps.slice(0, i).some(Boolean) && reps.slice(i + 1).some(Boolean));
  });
}

/** Whether some optional or repeated item of `seq` can give way to the next one. */
function isAmbiguousSequence(items: readonly RegexNode[]): boolean {
  return items.some((item, i) => {
    if (item.kind !== "repeat" || item.max === item.min) return false;
    const next = emptySet();
    for (const later of items.slice(i + 1)) {
      unionInto(next, first(later));
      if (!nullable(later)) break;
    }
    return overlaps(first(item.body), next);
  });
}

/**
 * The first hazard found in `source` (a regex `new RegExp` accepted), or undefined when the regex
 * is safe by the rules above. Never throws.
 */
export function findBacktrackingHazard(
  source: string,
): RegexHazard | undefined {
  const fragment = (n: RegexNode): string => source.slice(n.start, n.end);
  const walk = (
    node: RegexNode,
    loop: (RegexNode & { kind: "repeat" }) | undefined,
  ): RegexHazard | undefined => {
    let inner = loop;
    if (node.kind === "repeat" && isRepeating(node) && consumes(node.body)) {
      if (loop !== undefined && !isDelimited(loop)) {
        return { kind: "nested-repetition", fragment: fragment(loop) };
      }
      inner = node;
    }
    if (inner !== undefined && node.kind === "alt") {
      const sets = node.alts.filter(consumes).map(first);
      const clash = sets.some((a, i) =>
        sets.slice(i + 1).some((b) => overlaps(a, b)),
      );
      if (clash) {
        return { kind: "overlapping-alternatives", fragment: fragment(inner) };
      }
    }
    if (
      inner !== undefined &&
      node.kind === "seq" &&
      isAmbiguousSequence(node.items)
    ) {
      return { kind: "ambiguous-sequence", fragment: fragment(inner) };
    }
    for (const child of children(node)) {
      const hazard = walk(child, inner);
      if (hazard !== undefined) return hazard;
    }
    return undefined;
  };
  return walk(parseRegex(source), undefined);
}
