import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { nodeFlags, SERVICE_NAMES } from './launcher.js';

/**
 * The compose file cannot read apps/node-flags.json, so it repeats each service's flags and
 * environment: held here to the file `npm start`, the benchmark and the tests launch with.
 */
interface ComposeService {
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
}
const compose = parse(readFileSync('docker/compose.yaml', 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};

describe('the service launcher', () => {
  it.each(SERVICE_NAMES.flatMap((s) => [s, `${s}-secure`]))(
    'compose runs %s with the flags and environment of apps/node-flags.json, and checks its health',
    (name) => {
      const service = name.replace('-secure', '') as (typeof SERVICE_NAMES)[number];
      const c = compose.services[name]!;
      const { flags, env } = nodeFlags(service);
      expect(c.command).toEqual(['node', ...flags, `dist/apps/${service}/src/main.js`]);
      for (const [k, v] of Object.entries(env)) expect(c.environment?.[k]).toBe(v);
      expect(c.healthcheck?.test).toEqual(
        expect.arrayContaining(['node', 'docker/healthcheck.mjs']),
      );
    },
  );

  it('gives the aggregator its heap and malloc settings (ADR 0010)', () => {
    expect(nodeFlags('aggregator').flags).toContain('--max-semi-space-size=8');
    expect(nodeFlags('aggregator').env).toEqual({ MALLOC_MMAP_THRESHOLD_: '131072' });
    expect(nodeFlags('api')).toEqual({ flags: [], env: {} });
  });
});
