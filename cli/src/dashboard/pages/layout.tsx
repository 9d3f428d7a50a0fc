/** The page frame: title, navigation, the stylesheet; every page renders inside it. */
import type { ReactNode } from "react";
import { STYLES } from "../styles";

export type Section = "runs" | "queues" | "gpus" | "teams";

const NAV: [Section, string, string][] = [
  ["runs", "/", "Runs"],
  ["queues", "/queues", "Queues"],
  ["gpus", "/gpus", "GPUs"],
  ["teams", "/teams", "Teams"],
];

export interface LayoutProps {
  readonly title: string;
  readonly section: Section;
  /** "all namespaces" or "namespace X", and the API server. */
  readonly scope: string;
  readonly server: string;
  /** Extra head elements (the curve script and its stylesheet). */
  readonly head?: ReactNode;
  readonly children: ReactNode;
}

export function Layout({ title, section, scope, server, head, children }: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · Kiln`}</title>
        <style>{STYLES}</style>
        {head}
      </head>
      <body>
        <header>
          <strong className="brand">Kiln</strong>
          <nav>
            {NAV.map(([s, href, label]) => (
              <a
                key={s}
                href={href}
                className={s === section ? "active" : undefined}
                aria-current={s === section ? "page" : undefined}
              >
                {label}
              </a>
            ))}
          </nav>
          <span className="scope">
            {scope} · {server}
          </span>
        </header>
        <main>
          <h1>{title}</h1>
          {children}
        </main>
      </body>
    </html>
  );
}

/** A bar of `value` out of `max` (0..100%), with its numbers beside it. */
export function Meter({ value, max, label }: { value: number; max: number; label: string }) {
  const pct = max > 0 ? Math.min(100, (value / max) * 100) : value > 0 ? 100 : 0;
  return (
    <span className="meter" title={label}>
      <span className={`fill${value > max ? " over" : ""}`} style={{ width: `${pct.toFixed(1)}%` }} />
    </span>
  );
}

export function Notes({ notes }: { notes: readonly string[] }) {
  return notes.length ? (
    <ul className="notes">
      {notes.map((n) => (
        <li key={n}>{n}</li>
      ))}
    </ul>
  ) : null;
}
