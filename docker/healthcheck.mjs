// The container's health check: the service's readiness (node:20-slim has no curl).
// Usage: node docker/healthcheck.mjs <port>
const port = process.argv[2];
fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(4_000) }).then(
  (r) => process.exit(r.ok ? 0 : 1),
  () => process.exit(1),
);
