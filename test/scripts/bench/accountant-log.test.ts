import { parseAccountantLog } from "../../../scripts/bench/accountant-log";

describe("the accountant's log, read for per-pass figures", () => {
  it("reads the accountant's own pass lines and ignores the meter's bursts when both are present", () => {
    const log = [
      '{"time":"t","msg":"started","teams":["a"]}',
      '{"time":"t","msg":"pass","ms":800,"requests":12,"bytes":1000,"jobs":10000}',
      '{"time":"t","msg":"bench-http-burst","ms":5,"requests":1,"bytes":1}',
      '{"time":"t","msg":"pass","ms":1200,"requests":14,"bytes":3000}',
    ].join("\n");
    expect(parseAccountantLog(log)).toMatchObject({
      source: "pass",
      passes: 2,
      msP50: 800,
      msMax: 1200,
      requestsMean: 13,
      bytesMean: 2000,
      lastPass: { ms: 1200, requests: 14, bytes: 3000 },
    });
  });

  it("falls back to the meter's bursts for an accountant that logs only changes", () => {
    const log = [
      '{"msg":"records written","team":"a","count":3}',
      '{"msg":"bench-http-burst","ms":300,"requests":9,"bytes":512}',
      "",
    ].join("\n");
    expect(parseAccountantLog(log)).toMatchObject({
      source: "bench-http-burst",
      passes: 1,
      msMax: 300,
      requestsMean: 9,
      bytesMean: 512,
    });
  });

  it("skips stack traces and other lines, counts error lines, and reports no passes as NaN", () => {
    const r = parseAccountantLog(
      'kiln-accountant: TypeError\n    at x\n{not json\n{"level":"error","msg":"boom","failures":1}\n',
    );
    expect(r).toMatchObject({ source: "none", passes: 0, errors: 1 });
    expect(r.msMax).toBeNaN();
    expect(parseAccountantLog('{"msg":"pass","ms":10}').requestsMean).toBeNaN();
  });
});

describe("a pass cut short by the end of the bench", () => {
  it("counts with its time so far and is flagged", () => {
    const r = parseAccountantLog(
      '{"msg":"bench-http-burst","ms":300,"requests":9,"bytes":512}\n{"msg":"bench-http-burst","unfinished":true,"ms":900000,"requests":3000,"bytes":9}\n',
    );
    expect(r).toMatchObject({ passes: 2, msMax: 900000, unfinished: 1 });
    expect(parseAccountantLog('{"msg":"pass","ms":1}').unfinished).toBe(0);
  });
});
