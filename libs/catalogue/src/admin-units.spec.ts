import { AdminUnits } from './admin-units.js';

const units = AdminUnits.load('data/admin-units');

describe('AdminUnits across the 2025 reform', () => {
  it('knows which old provinces formed each new one: 63 into 34, each whole', () => {
    expect(units.oldProvincesOf('37').sort()).toEqual(['35', '36', '37']);
    expect(units.oldProvincesOf('38')).toEqual(['38']);
    expect(units.newProvinceOf('10')).toBe('15');
    const all = units.all('2025').filter((u) => u.level === 'province');
    expect(all.flatMap((u) => units.oldProvincesOf(u.code))).toHaveLength(63);
  });

  it('re-bases 2,897 of the 3,321 communes of 2025 exactly, and names what the other 424 took in part', () => {
    const communes = units.all('2025').filter((u) => u.level === 'commune');
    const origins = communes.map((u) => units.communeOrigin(u.code)!);
    expect(origins.every((o) => o !== undefined)).toBe(true);
    const exact = origins.filter((o) => o.split.length === 0);
    expect([communes.length, exact.length]).toEqual([3_321, 2_897]);
    // Phường Ba Đình (00004) took Trúc Bạch and Quán Thánh whole, Ngọc Hà and Điện Biên in part
    const baDinh = units.communeOrigin('00004')!;
    expect(baDinh.from).toEqual(expect.arrayContaining(['00004', '00013', '00016', '00019']));
    expect(baDinh.split).toEqual(
      expect.arrayContaining(['00016 Phường Ngọc Hà', '00019 Phường Điện Biên']),
    );
    expect(units.newCommunesOf('00016')).toEqual(expect.arrayContaining(['00004', '00008']));
  });
});
