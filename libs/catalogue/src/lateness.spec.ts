import { lateness } from './lateness.js';

const monthly = { every: 'month' as const, dueDays: 15 };
const yearly = { every: 'year' as const, dueDays: 90 };

describe('lateness', () => {
  it('owes last month once its due date has passed', () => {
    expect(lateness(monthly, '2026-10', '2026-11-22')).toEqual({
      due: '2026-10',
      dueBy: '2026-11-15',
      late: false,
    });
    expect(lateness(monthly, '2026-09', '2026-11-22').late).toBe(true);
  });

  it('does not owe a month before its due date', () => {
    expect(lateness(monthly, '2026-09', '2026-11-10')).toMatchObject({
      due: '2026-09',
      late: false,
    });
  });

  it('counts a longer period that covers the month as reporting it', () => {
    expect(lateness(monthly, '2026-Q4', '2026-11-22').late).toBe(false);
  });

  it('says a source that never reported is late', () => {
    expect(lateness(yearly, null, '2026-11-22')).toEqual({
      due: '2025',
      dueBy: '2026-03-31',
      late: true,
    });
  });
});
