/**
 * `clip` has two homes: contract/text.ts for every room that may import the contract, and the trainer's own
 * (trainer-image/src/clip.ts: its image is built from its folder alone). They must cut alike.
 */
import fc from "fast-check";
import { clip } from "../../contract/text";
import { clip as trainerClip } from "../../trainer-image/src/clip";

test("the contract's clip and the trainer's cut every string at the same place", () => {
  fc.assert(
    fc.property(
      fc.string({ maxLength: 200 }),
      fc.option(fc.integer({ min: 0, max: 120 }), { nil: undefined }),
      (text, max) => {
        expect(trainerClip(text, max)).toBe(clip(text, max));
      },
    ),
    { numRuns: 500 },
  );
});
