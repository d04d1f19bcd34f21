/** Types of infra.mjs for the tests that start a broker of their own. */
export interface Profile {
  readonly kafkaPort: number;
  readonly controllerPort: number;
  readonly pgPort: number;
  readonly dir: string;
  readonly fresh: boolean;
  readonly secure?: boolean;
}
export const ROOT: string;
export const PROFILES: Record<'dev' | 'test' | 'dev-secure' | 'test-secure', Profile>;
export function startKafka(profile?: string): Promise<{ brokers: string; pid: number }>;
export function stopKafka(profile?: string): Promise<void>;
