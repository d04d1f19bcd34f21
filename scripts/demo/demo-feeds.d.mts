/** Types of demo-feeds.mjs for the tests that send the demo's feeds. */
export interface DemoFeed {
  readonly schema: 'lgsp.feed.v1';
  readonly feedId: string;
  readonly source: string;
  readonly sentAt: string;
  readonly period: string;
  readonly status: 'actual' | 'estimate';
  readonly observations: readonly Record<string, unknown>[];
}
export interface DemoRow {
  readonly area: string;
  readonly period: string;
  readonly kpi: string;
  readonly published: string;
  readonly expected: number;
  readonly why?: string;
}
export function demoFeeds(): DemoFeed[];
export const DEMO_TABLE: readonly DemoRow[];
export const REPORT_DEMOS: readonly { area: string; period: string; seed: string }[];
