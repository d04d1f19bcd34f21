// @ts-expect-error: a plain ES module without types
import { args } from './hub.mjs';

describe('the hub command line', () => {
  it('reads a command, its positionals and the flags it takes', () => {
    expect(args(['exchanges', '--source', 'viettel', '--outcome', 'rejected'])).toEqual({
      _: ['exchanges'],
      source: 'viettel',
      outcome: 'rejected',
    });
    expect(args(['tokens', 'create', '--name', 'wh', '--expires-days', '30'])).toMatchObject({
      _: ['tokens', 'create'],
      name: 'wh',
      'expires-days': '30',
    });
  });

  it('refuses a flag the command does not take, naming the ones it does', () => {
    expect(() => args(['kpis', '--source', 'viettel'])).toThrow(
      "Unknown option '--source'. 'kpis' takes --area, --areaSet, --period, --kpi, --basis.",
    );
    expect(() => args(['dlq', 'replay', '7', '--force'])).toThrow(/Unknown option '--force'/);
  });

  it('refuses a flag given without its value', () => {
    expect(() => args(['kpis', '--area'])).toThrow(/argument missing/);
  });
});
