import type { KpiUnit } from './catalogue.js';

/** The languages the hub's pages speak: Vietnamese first (its readers are provincial staff). */
export const LANGS = ['vi', 'en'] as const;
export type Lang = (typeof LANGS)[number];

/**
 * Each KPI's name as the digital-infrastructure criteria word it (the seed plans and reports),
 * and in English.
 */
export const KPI_NAMES: Readonly<Record<string, Record<Lang, string>>> = {
  MOB_SUB_P100: {
    vi: 'Số thuê bao di động trên 100 dân',
    en: 'Mobile subscriptions per 100 inhabitants',
  },
  MBB_SUB_P100: {
    vi: 'Số thuê bao băng rộng di động trên 100 dân',
    en: 'Mobile broadband subscriptions per 100 inhabitants',
  },
  FBB_SUB_P100: {
    vi: 'Số thuê bao băng rộng cố định trên 100 dân',
    en: 'Fixed broadband subscriptions per 100 inhabitants',
  },
  SMP_SUB_SHARE: {
    vi: 'Tỷ lệ thuê bao di động sử dụng điện thoại thông minh',
    en: 'Smartphone share of mobile subscriptions',
  },
  ADULT_SMP_RATE: {
    vi: 'Tỷ lệ dân số trưởng thành có điện thoại thông minh',
    en: 'Adults with a smartphone',
  },
  HH_FTTH_RATE: {
    vi: 'Tỷ lệ hộ gia đình có kết nối Internet băng rộng cáp quang',
    en: 'Households with fibre broadband',
  },
  VIL_MBB_COV: {
    vi: 'Tỷ lệ thôn, bản được phủ sóng băng rộng di động',
    en: 'Villages covered by mobile broadband',
  },
  VIL_FTTH_COV: {
    vi: 'Tỷ lệ thôn, bản có đường truyền cáp quang',
    en: 'Villages with fibre',
  },
  BTS_SITE_SHARE: {
    vi: 'Tỷ lệ trạm BTS dùng chung cơ sở hạ tầng',
    en: 'BTS sites shared between operators',
  },
  TELECOM_REVENUE: { vi: 'Doanh thu dịch vụ viễn thông', en: 'Telecom revenue' },
  MBB_DL_MBPS: {
    vi: 'Tốc độ tải xuống trung bình băng rộng di động',
    en: 'Mobile broadband download speed',
  },
  FBB_DL_MBPS: {
    vi: 'Tốc độ tải xuống trung bình băng rộng cố định',
    en: 'Fixed broadband download speed',
  },
};

export const UNIT_NAMES: Readonly<Record<KpiUnit, Record<Lang, string>>> = {
  per_100_inhabitants: { vi: 'thuê bao/100 dân', en: 'per 100 inhabitants' },
  percent: { vi: '%', en: '%' },
  vnd: { vi: 'đồng', en: 'VND' },
  mbit_per_s: { vi: 'Mbit/s', en: 'Mbit/s' },
};

export const kpiName = (kpi: string, lang: Lang): string => KPI_NAMES[kpi]?.[lang] ?? kpi;
