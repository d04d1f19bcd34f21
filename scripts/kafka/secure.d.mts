/** Types of secure.mjs for the tests of the secure broker. */
export interface Credentials {
  readonly storePassword: string;
  readonly users: Record<string, string>;
}
export const PRINCIPALS: readonly string[];
export function secureDir(profileDir: string): string;
export function credentials(profileDir: string): Credentials;
export function serviceEnv(profileDir: string, service: string): Record<string, string>;
export function writeJavaClientProps(
  profileDir: string,
  file: string,
  user: string,
  password: string,
): string;
