/** fast-check arbitraries for a feature's preprocessing, shared by the encoders' property tests. */
import fc from "fast-check";
import type { FeatureEncoding } from "../../trainer-image/src/preprocess";

export const scaleArbitrary = fc.oneof(
  fc.constant({ kind: "none" as const }),
  fc.record({
    kind: fc.constant("standard" as const),
    mean: fc.double({ noNaN: true, min: -10, max: 10 }),
    std: fc.double({ min: 0.1, max: 10, noNaN: true }),
  }),
  fc.record({
    kind: fc.constant("minmax" as const),
    min: fc.integer({ min: -5, max: 5 }),
    max: fc.integer({ min: -5, max: 5 }),
  }),
);

/** A numeric or categorical encoding of `column`, its categories drawn from `categoryValues`. */
export const encodingArbitrary = (column: string, categoryValues: readonly string[]): fc.Arbitrary<FeatureEncoding> =>
  fc.oneof(
    fc.record({
      column: fc.constant(column),
      kind: fc.constant("numeric" as const),
      impute: fc.option(fc.double({ noNaN: true, min: -100, max: 100 }), { nil: null }),
      scale: scaleArbitrary,
    }),
    fc.record({
      column: fc.constant(column),
      kind: fc.constant("categorical" as const),
      categories: fc.uniqueArray(fc.constantFrom(...categoryValues), { minLength: 1 }),
      impute: fc.option(fc.constantFrom("red", "green", "zzz"), { nil: null }),
    }),
  );
