/**
 * The secure mode of the hub's own Kafka (issue 24): SASL_SSL with SCRAM-SHA-512 for every
 * client, TLS from a CA the project makes on first use, KRaft's StandardAuthorizer, and one
 * principal per service with only the ACLs it needs. Used by infra.mjs for the `*-secure`
 * profiles; nothing here runs on the plaintext quick start.
 *
 * Files, in `<profile dir>/secure/` (kept between runs of a kept profile):
 *   ca.p12, ca.pem           the CA (ca.pem is what clients trust)
 *   broker.p12               the broker's key and certificate (CN and SAN 127.0.0.1, localhost)
 *   truststore.p12           the CA for Java clients
 *   credentials.json         SCRAM passwords of the admin and each service principal, and the
 *                            keystores' password (mode 0600)
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hubAcls, kafkaLib } from './apply-acls.mjs';

/**
 * The principals made when the broker's storage is formatted: `admin`, the super user that
 * setup uses; one per service; `warehouse`, which may read the KPI events; and the sources of
 * contract v1 (the demo's feeds come from them). Sources onboarded later get theirs from the
 * api (libs/kafka `ScramCredentials`).
 */
export const PRINCIPALS = [
  'admin',
  'hub-ingest',
  'hub-aggregator',
  'hub-relay',
  'hub-api',
  'warehouse',
];
export const MECHANISM = 'SCRAM-SHA-512';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The built hub's libs: the ACLs are defined once, in libs/kafka. */
const dist = (lib) => import(join(ROOT, 'dist', 'libs', lib, 'src', 'index.js'));

const say = (msg) => process.stderr.write(`[infra] ${msg}\n`);
const secret = () => randomBytes(18).toString('base64url');

export const secureDir = (profileDir) => join(profileDir, 'secure');

/** Passwords of the principals and the keystores, made once (`prepare` first). */
export function credentials(profileDir, principals = PRINCIPALS) {
  const dir = secureDir(profileDir);
  const file = join(dir, 'credentials.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  mkdirSync(dir, { recursive: true });
  const creds = {
    storePassword: secret(),
    users: Object.fromEntries(principals.map((p) => [p, secret()])),
  };
  writeFileSync(file, `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return creds;
}

/** The CA and the broker's certificate, made with the JDK's keytool on first use. */
export function ensurePki(profileDir) {
  const dir = secureDir(profileDir);
  const { storePassword } = credentials(profileDir);
  if (existsSync(join(dir, 'broker.p12')) && existsSync(join(dir, 'truststore.p12'))) return dir;
  say('making a CA and a broker certificate for the secure broker (once)...');
  const keytool = (...args) =>
    execFileSync('keytool', [...args, '-storepass', storePassword], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  const san = 'SAN=ip:127.0.0.1,dns:localhost';
  const store = (name) => ['-keystore', name, '-storetype', 'PKCS12'];
  const keypair = (alias, dname, ext, name) =>
    keytool(
      '-genkeypair',
      '-alias',
      alias,
      '-keyalg',
      'RSA',
      '-keysize',
      '2048',
      '-validity',
      '3650',
      '-dname',
      dname,
      '-ext',
      ext,
      ...store(name),
    );
  keypair('ca', 'CN=LGSP hub local CA', 'bc:c', 'ca.p12');
  keytool('-exportcert', '-alias', 'ca', '-rfc', '-file', 'ca.pem', ...store('ca.p12'));
  keypair('broker', 'CN=lgsp-broker', san, 'broker.p12');
  keytool('-certreq', '-alias', 'broker', '-file', 'broker.csr', ...store('broker.p12'));
  keytool(
    '-gencert',
    '-alias',
    'ca',
    '-infile',
    'broker.csr',
    '-outfile',
    'broker.crt',
    '-rfc',
    '-ext',
    san,
    '-validity',
    '3650',
    ...store('ca.p12'),
  );
  keytool('-importcert', '-alias', 'ca', '-file', 'ca.pem', '-noprompt', ...store('broker.p12'));
  keytool('-importcert', '-alias', 'broker', '-file', 'broker.crt', ...store('broker.p12'));
  keytool(
    '-importcert',
    '-alias',
    'ca',
    '-file',
    'ca.pem',
    '-noprompt',
    ...store('truststore.p12'),
  );
  return dir;
}

/**
 * server.properties lines of the secure broker. Clients have one listener, SASL_SSL; the
 * controller listener (loopback) takes TLS with a client certificate only, the broker's own:
 * SCRAM cannot serve a KRaft controller, and an anonymous one would be a super user.
 */
export function secureServerProps(profileDir, p) {
  const dir = ensurePki(profileDir);
  const { storePassword, users } = credentials(profileDir);
  return [
    `listeners=SASL_SSL://127.0.0.1:${p.kafkaPort},CONTROLLER://127.0.0.1:${p.controllerPort}`,
    `advertised.listeners=SASL_SSL://127.0.0.1:${p.kafkaPort}`,
    'listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SSL',
    'inter.broker.listener.name=SASL_SSL',
    `sasl.enabled.mechanisms=${MECHANISM}`,
    `sasl.mechanism.inter.broker.protocol=${MECHANISM}`,
    `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${users.admin}";`,
    `ssl.keystore.location=${join(dir, 'broker.p12')}`,
    'ssl.keystore.type=PKCS12',
    `ssl.keystore.password=${storePassword}`,
    `ssl.key.password=${storePassword}`,
    `ssl.truststore.location=${join(dir, 'truststore.p12')}`,
    'ssl.truststore.type=PKCS12',
    `ssl.truststore.password=${storePassword}`,
    'listener.name.controller.ssl.client.auth=required',
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'allow.everyone.if.no.acl.found=false',
    'super.users=User:admin;User:CN=lgsp-broker',
  ];
}

/** Credentials (the hub's principals and the default sources) and certificates, once. */
export async function prepare(profileDir) {
  const { DEFAULT_SOURCES } = await dist('catalogue');
  credentials(profileDir, [...PRINCIPALS, ...DEFAULT_SOURCES.map((s) => s.id)]);
  ensurePki(profileDir);
}

/**
 * The ACLs of the services (consumer groups by prefix: `lgsp-ingest`, `lgsp-aggregator`),
 * the warehouse and the default sources (apply-acls.mjs). Creating an ACL that exists changes
 * nothing.
 */
export async function applyHubAcls(profileDir, brokers) {
  const lib = await kafkaLib();
  const { users } = credentials(profileDir);
  const client = lib.createKafka(
    'lgsp-infra',
    brokers,
    { mechanism: 'scram-sha-512', username: 'admin', password: users.admin },
    { ca: readFileSync(join(secureDir(profileDir), 'ca.pem'), 'utf8') },
  );
  const sources = Object.keys(users).filter((u) => !PRINCIPALS.includes(u));
  await lib.createAcls(client, hubAcls(lib, sources));
}

/** StorageTool arguments that create every principal's SCRAM credential at format time. */
export function scramFormatArgs(profileDir) {
  const { users } = credentials(profileDir);
  return Object.entries(users).flatMap(([name, password]) => [
    '--add-scram',
    `${MECHANISM}=[name=${name},password=${password}]`,
  ]);
}

/** The environment a service needs to reach the secure broker as its own principal. */
export function serviceEnv(profileDir, service) {
  const { users } = credentials(profileDir);
  const user = `hub-${service}`;
  return {
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: user,
    KAFKA_SASL_PASSWORD: users[user],
    KAFKA_SSL_CA_FILE: join(secureDir(profileDir), 'ca.pem'),
  };
}

/**
 * Properties for a Java client (producer, consumer, admin tool) connecting as `user` with
 * `password`; written to `file`.
 */
export function writeJavaClientProps(profileDir, file, user, password) {
  const { storePassword } = credentials(profileDir);
  writeFileSync(
    file,
    [
      'security.protocol=SASL_SSL',
      `sasl.mechanism=${MECHANISM}`,
      `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${user}" password="${password}";`,
      `ssl.truststore.location=${join(secureDir(profileDir), 'truststore.p12')}`,
      'ssl.truststore.type=PKCS12',
      `ssl.truststore.password=${storePassword}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return file;
}
