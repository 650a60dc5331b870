/**
 * What a loss requires of its target (TargetDomain; each loss declares its own in
 * compiler/semantics/builtins.ts), checked one sample at a time as data is loaded. Outside its
 * domain a loss still computes, but trains to nonsense: binary_cross_entropy with a target of 7
 * is unbounded below (loss −507 after a few epochs) and exits 0.
 */
import type { TargetDomain } from "../../compiler/semantics/model.js";

export type { TargetDomain };

/** How far a distribution's sum may be from 1: values written with a few decimals (⅓ as 0.333333). */
export const SUM_TOLERANCE = 1e-6;

/** The rule of each domain, as the messages and docs/data.md state it. */
export const DOMAIN_RULES: Readonly<Record<TargetDomain, string>> = {
  probability: "binary_cross_entropy takes targets in [0, 1]",
  distribution: "cross_entropy takes targets ≥ 0 that sum to 1 in each sample (one-hot, a distribution, or a class column)",
  sign: "hinge takes targets −1 or +1",
};

export interface Violation {
  /** the element of the sample's target at fault */
  readonly element: number;
  readonly detail: string;
}

/**
 * The first violation of `domain` by one sample's target `name` (values[offset … offset + width)),
 * or null. A distribution's elements must each be ≥ 0 and, for a vector, sum to 1.
 */
export function targetViolation(domain: TargetDomain, name: string, values: ArrayLike<number>, offset: number, width: number): Violation | null {
  const at = (k: number) => (width === 1 ? name : `${name}[${k}]`);
  const bad = (k: number, what: string): Violation => ({ element: k, detail: `the target ${at(k)} is ${values[offset + k]}, ${what}: ${DOMAIN_RULES[domain]}` });
  let sum = 0;
  for (let k = 0; k < width; k++) {
    const v = values[offset + k]!;
    switch (domain) {
      case "probability":
        if (!(v >= 0 && v <= 1)) return bad(k, "outside [0, 1]");
        break;
      case "sign":
        if (v !== 1 && v !== -1) return bad(k, "not −1 or +1");
        break;
      case "distribution":
        if (!(v >= 0)) return bad(k, "negative");
        sum += v;
        break;
    }
  }
  if (domain === "distribution" && width > 1 && !(Math.abs(sum - 1) <= SUM_TOLERANCE))
    return { element: 0, detail: `the target ${name} sums to ${+sum.toPrecision(12)} in this sample, not 1: ${DOMAIN_RULES[domain]}` };
  return null;
}
