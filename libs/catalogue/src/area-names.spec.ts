import { AdminUnits } from './admin-units.js';
import { AreaNames, foldedName } from './area-names.js';

const units = AdminUnits.load('data/admin-units');
const names2008 = new AreaNames(units, '2008');
const code = (n: AreaNames, name: string): string => {
  const r = n.resolve(name);
  return r.ok ? r.unit.code : `error: ${r.reason}`;
};

describe('AreaNames', () => {
  it('reads a province name in any spelling, with or without diacritics, NFC or NFD', () => {
    for (const spelling of [
      'Tỉnh Ninh Bình',
      'NINH BINH',
      'Ninh Binh',
      'ninh bình',
      'Tỉnh Ninh Bình'.normalize('NFD'),
      '  Ninh   Bình ',
    ])
      expect(code(names2008, spelling)).toBe('37');
    expect(code(names2008, 'TP. Hồ Chí Minh')).toBe('79');
    expect(code(names2008, 'Thành phố Hà Nội')).toBe('01');
  });

  it('reads the name in the boundary set of the period: 2025 lists after the reform', () => {
    expect(code(new AreaNames(units, '2025'), 'Ninh Bình')).toBe('37');
    // Nam Định province became part of Ninh Bình; the name is a ward's now.
    expect(code(new AreaNames(units, '2025'), 'Nam Định')).toBe('13669');
    expect(code(names2008, 'Nam Định')).toBe('36');
  });

  it('reads a district or commune with its parents after commas', () => {
    expect(code(names2008, 'Huyện Gia Viễn')).toBe('373');
    expect(code(names2008, 'Xã Gia Hòa, Gia Viễn, Ninh Bình')).toBe('14467');
    expect(code(names2008, 'xa gia hoa, ninh binh')).toBe('14467');
  });

  it('refuses a name that fits several units, and lists them', () => {
    expect(code(names2008, 'Xã Tân Hòa')).toMatch(
      /names \d+ units: .*Add the district or province/,
    );
  });

  it('refuses an unknown name and suggests the closest', () => {
    expect(code(names2008, 'Ninh Bihn')).toMatch(/closest: "Ninh Bình"/);
  });

  it('folds đ and the unit-kind word', () => {
    expect(foldedName('Thành phố Đà Nẵng')).toBe('da nang');
    expect(foldedName('Phường 1')).toBe('1');
  });
});
