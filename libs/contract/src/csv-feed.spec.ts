import { csvPath, csvToFeed } from './csv-feed.js';

const fields = {
  source: 'viettel',
  feedId: 'f1',
  period: '2024-06',
  sentAt: '2024-07-05T08:00:00+07:00',
};

describe('csvToFeed', () => {
  it('reads one observation per row, in the source names, with feed fields beside it', () => {
    const r = csvToFeed(
      '\uFEFFarea,measure,value,items\nNinh Bình,TB_BRDD,412.5,\n37,villages_mbb_covered,,a|b\n37,mbb_subscriptions,null,\n',
      fields,
      undefined,
    );
    expect(r).toEqual({
      ok: true,
      plain: {
        schema: 'lgsp.feed.v1',
        source: 'viettel',
        feedId: 'f1',
        period: '2024-06',
        sentAt: '2024-07-05T08:00:00+07:00',
        observations: [
          { area: 'Ninh Bình', measure: 'TB_BRDD', value: 412.5 },
          { area: '37', measure: 'villages_mbb_covered', items: ['a', 'b'] },
          { area: '37', measure: 'mbb_subscriptions', value: null },
        ],
      },
    });
  });

  it("uses the profile's column names and Vietnamese number style, with ; as delimiter", () => {
    const r = csvToFeed(
      'Địa bàn;Chỉ tiêu;Số lượng;Kỳ\n"Tỉnh Ninh Bình";TB_DD;1.234.567,5;2024-06\n',
      { source: 'vnpt', feedId: 'f2', sentAt: fields.sentAt },
      {
        numbers: 'vi',
        columns: { area: 'Địa bàn', measure: 'Chỉ tiêu', value: 'Số lượng', period: 'Kỳ' },
      },
    );
    expect(r.ok && r.plain.period).toBe('2024-06');
    expect(r.ok && r.plain.observations).toEqual([
      { area: 'Tỉnh Ninh Bình', measure: 'TB_DD', value: 1234567.5 },
    ]);
  });

  it('keeps what is not a number as text, for validation to reject with the row', () => {
    const r = csvToFeed(
      'area,measure,value\n37,x,NaN\n37,y,-Infinity\n37,z,1e999\n',
      fields,
      undefined,
    );
    expect(r.ok && (r.plain.observations as { value: unknown }[]).map((o) => o.value)).toEqual([
      'NaN',
      '-Infinity',
      '1e999',
    ]);
    expect(csvPath('observations[1].value')).toBe('row 3.value');
  });

  it('says which column is missing, and refuses a file that disagrees with itself', () => {
    const noMeasure = csvToFeed('area,value\n37,1\n', fields, undefined);
    expect(noMeasure.ok ? '' : noMeasure.errors[0]!.message).toMatch(
      /no "measure" column.*header is: area, value/,
    );
    const twoPeriods = csvToFeed(
      'area,measure,value,period\n37,x,1,2024-05\n37,y,1,2024-06\n',
      { source: 'viettel' },
      undefined,
    );
    expect(twoPeriods.ok ? '' : twoPeriods.errors[0]!.message).toMatch(
      /one period for the whole file/,
    );
    const unclosed = csvToFeed('area,measure,value\n"37,x,1\n', fields, undefined);
    expect(unclosed.ok ? '' : unclosed.errors[0]!.code).toBe('MALFORMED_CSV');
  });
});
