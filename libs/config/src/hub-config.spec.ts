import { ConfigError, loadConfig } from './hub-config.js';

describe('loadConfig', () => {
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
