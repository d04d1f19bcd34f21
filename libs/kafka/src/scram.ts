import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where and as whom the hub manages SCRAM credentials on a secured broker. */
export interface ScramAdmin {
  /** The Java classpath of Apache Kafka's jars (its own ConfigCommand does the work). */
  readonly classpath: string;
  readonly brokers: string;
  readonly username: string;
  readonly password: string;
  /** PEM file of the CA the broker's certificate is signed by. */
  readonly caFile: string;
}

const MECHANISM = 'SCRAM-SHA-512';
const ITERATIONS = 8192;

/** A password for a source's principal: 144 random bits, URL-safe. */
export const newKafkaPassword = (): string => randomBytes(18).toString('base64url');

/**
 * SCRAM credentials through Apache Kafka's own `kafka.admin.ConfigCommand`: kafkajs has no
 * AlterUserScramCredentials (it speaks none of the protocol's flexible versions), and Kafka's
 * tool is the reference for it. The admin's password goes through a file of mode 0600,
 * removed at once; the new password is an argument of the tool for the second it runs
 * (ConfigCommand's --add-config-file does not read SCRAM entries), and never logged.
 */
export class ScramCredentials {
  constructor(private readonly admin: ScramAdmin) {}

  async upsert(user: string, password: string): Promise<void> {
    await this.configCommand(
      user,
      ['--add-config', `${MECHANISM}=[iterations=${ITERATIONS},password=${password}]`],
      password,
    );
  }

  async remove(user: string): Promise<void> {
    await this.configCommand(user, ['--delete-config', MECHANISM]);
  }

  private dir?: string;

  private file(name: string, content: string): string {
    this.dir ??= mkdtempSync(join(tmpdir(), 'lgsp-scram-'));
    const path = join(this.dir, name);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  }

  /** `secret` never appears in what is logged or thrown. */
  private async configCommand(user: string, args: string[], secret?: string): Promise<void> {
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(user)) throw new Error(`not a principal name: ${user}`);
    const a = this.admin;
    try {
      const commandConfig = this.file(
        'client.properties',
        [
          'security.protocol=SASL_SSL',
          `sasl.mechanism=${MECHANISM}`,
          `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${a.username}" password="${a.password}";`,
          'ssl.truststore.type=PEM',
          `ssl.truststore.location=${a.caFile}`,
          '',
        ].join('\n'),
      );
      await run(
        'java',
        [
          '-cp',
          a.classpath,
          'kafka.admin.ConfigCommand',
          '--bootstrap-server',
          a.brokers,
          '--command-config',
          commandConfig,
          '--alter',
          '--entity-type',
          'users',
          '--entity-name',
          user,
          ...args,
        ],
        { timeout: 60_000 },
      );
    } catch (e) {
      const err = e as { stderr?: string; stdout?: string; message: string };
      const said = (err.stderr || err.stdout || err.message)
        .split('\n')
        .filter((l) => l.trim() && !l.startsWith('log4j:'))
        .slice(-3)
        .join(' ');
      throw new Error(
        `Kafka's ConfigCommand could not change the SCRAM credential of ${user}: ${secret ? said.split(secret).join('***') : said}`,
      );
    } finally {
      if (this.dir) rmSync(this.dir, { recursive: true, force: true });
      this.dir = undefined;
    }
  }
}
