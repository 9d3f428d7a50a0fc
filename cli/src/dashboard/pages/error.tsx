/** A page for what went wrong: not found, a bad query, or the API server's answer. */
import { Layout } from "./layout";

export function ErrorPageView({
  status,
  message,
  scope,
  server,
}: {
  status: number;
  message: string;
  scope: string;
  server: string;
}) {
  return (
    <Layout
      title={status === 404 ? "Not found" : status === 400 ? "Bad request" : "Error"}
      section="runs"
      scope={scope}
      server={server}
    >
      <p className="notes" id="error">
        {message}
      </p>
      <p>
        <a href="/">Back to the runs</a>
      </p>
    </Layout>
  );
}
