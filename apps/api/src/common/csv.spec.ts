import { toCsv } from './csv.js';

describe('toCsv', () => {
  it('quotes fields with commas, quotes and line breaks, and leaves empty cells for null', () => {
    expect(
      toCsv(
        ['a', 'b', 'c'],
        [
          ['x,y', 'say "hi"', null],
          [1.5, true, 'line\nbreak'],
        ],
      ),
    ).toBe('a,b,c\r\n"x,y","say ""hi""",\r\n1.5,true,"line\nbreak"\r\n');
  });
});
