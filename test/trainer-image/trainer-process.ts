/** Builds the trainer once and runs dist/main.js as a child process, collecting its JSON log lines. */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";

export const REPO = path.resolve(__dirname, "..", "..");
export const TRAINER_MAIN = path.join(REPO, "trainer-image", "dist", "main.js");

/** `npm run build -w trainer-image` (tsc): the tests run the same dist/ the image ships. */
export function buildTrainer(): void {
  execFileSync("npm", ["run", "build", "-w", "trainer-image"], { cwd: REPO, stdio: "pipe" });
}

export interface TrainerProcess {
  proc: ChildProcess;
  lines: Record<string, unknown>[];
  stderr: () => string;
  exited: Promise<number | null>;
  /** Resolves with the first log line matching `pred` (rejects if the process exits first). */
  waitFor: (pred: (line: Record<string, unknown>) => boolean, timeoutMs?: number) => Promise<Record<string, unknown>>;
}

export function spawnTrainer(env: Record<string, string>, args: string[] = []): TrainerProcess {
  const proc = spawn(process.execPath, [TRAINER_MAIN, "train", ...args], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Record<string, unknown>[] = [];
  let err = "";
  let buf = "";
  const waiters: { pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] =
    [];
  proc.stdout!.on("data", (chunk: Buffer) => {
    buf += chunk.toString();
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      const text = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text);
      } catch {
        continue; // tfjs banners
      }
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.pred(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  proc.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((r) => proc.on("exit", (code, signal) => r(code ?? (signal ? -1 : null))));
  const waitFor = (pred: (l: Record<string, unknown>) => boolean, timeoutMs = 60_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const hit = lines.find(pred);
      if (hit) return resolve(hit);
      const timer = setTimeout(
        () => reject(new Error(`no matching log line within ${timeoutMs} ms; stderr:\n${err}`)),
        timeoutMs,
      );
      waiters.push({
        pred,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`trainer exited (${code}) before the expected log line; stderr:\n${err}`));
      });
    });
  return { proc, lines, stderr: () => err, exited, waitFor };
}

export const epochAtLeast = (n: number) => (l: Record<string, unknown>) =>
  typeof l.epoch === "number" && !("event" in l) && l.epoch >= n;
