import { readFileSync } from 'node:fs';
import { ConfigError, HubConfig, loadConfig } from './hub-config.js';

describe('loadConfig', () => {
  it('.env.example lists every setting with its default, and loads as it is', () => {
    const example = readFileSync('.env.example', 'utf8');
    const set = Object.fromEntries(
      [...example.matchAll(/^([A-Z][A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]),
    );
    const unset = [...example.matchAll(/^# ([A-Z][A-Z0-9_]+)=$/gm)].map((m) => m[1]);
    const defaults = Object.entries(new HubConfig());
    for (const [key, value] of defaults)
      if (value === undefined) expect(unset).toContain(key);
      else expect(set[key]).toBe(String(value));
    expect(Object.keys(set).length + unset.length).toBe(defaults.length);
    expect(loadConfig(set)).toEqual(loadConfig({}));
  });

  it('starts from the embedded defaults', () => {
    const c = loadConfig({});
    expect(c.KAFKA_BROKERS).toBe('127.0.0.1:9092');
    expect(c.API_PORT).toBe(3000);
  });

  it('takes values from the environment and converts numbers', () => {
    const c = loadConfig({ KAFKA_BROKERS: 'k1:9092,k2:9092', API_PORT: '8080' });
    expect(c.KAFKA_BROKERS).toBe('k1:9092,k2:9092');
    expect(c.API_PORT).toBe(8080);
  });

  it('refuses bad values, naming each one as the user wrote it', () => {
    expect(() => loadConfig({ API_PORT: 'abc', DATABASE_URL: 'mysql://x' })).toThrow(ConfigError);
    try {
      loadConfig({ API_PORT: 'abc', DATABASE_URL: 'mysql://x' });
    } catch (e) {
      expect((e as ConfigError).problems).toEqual([
        expect.stringMatching(
          /^DATABASE_URL="mysql:\/\/x": DATABASE_URL must be a postgres:\/\/ URL/,
        ),
        expect.stringMatching(/^API_PORT="abc": /),
      ]);
      expect((e as Error).message).toMatch(/Fix the environment variables/);
    }
  });
});
