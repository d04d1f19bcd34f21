#!/usr/bin/env node
/**
 * Applies the hub's ACLs (libs/kafka/src/acls.ts, built into dist/) to a secured broker, as its
 * admin: the services (consumer groups by prefix `lgsp-ingest`, `lgsp-aggregator`), the
 * `warehouse`, and the sources named. Creating an ACL that exists changes nothing.
 *
 *   KAFKA_BROKERS=... KAFKA_SASL_USERNAME=admin KAFKA_SASL_PASSWORD=... KAFKA_SSL_CA_FILE=ca.pem \
 *     node scripts/kafka/apply-acls.mjs viettel vnpt ...
 *
 * `npm start -- --secure` does the same through secure.mjs; docker/compose.yaml's `secure`
 * profile runs this.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Every ACL of the hub, for these sources, from the built Kafka lib `lib`. */
export const hubAcls = (lib, sources) => [
  ...lib.serviceAcls({ ingest: 'lgsp-ingest', aggregator: 'lgsp-aggregator' }),
  ...lib.warehouseAcls('warehouse'),
  ...sources.flatMap((s) => lib.sourceAcls(s)),
];

export const kafkaLib = () => import(join(ROOT, 'dist', 'libs', 'kafka', 'src', 'index.js'));

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const env = process.env;
  const lib = await kafkaLib();
  const client = lib.createKafka(
    'lgsp-acls',
    env.KAFKA_BROKERS,
    {
      mechanism: 'scram-sha-512',
      username: env.KAFKA_SASL_USERNAME,
      password: env.KAFKA_SASL_PASSWORD,
    },
    { ca: readFileSync(env.KAFKA_SSL_CA_FILE, 'utf8') },
  );
  const acls = hubAcls(lib, process.argv.slice(2));
  await lib.createAcls(client, acls);
  process.stdout.write(`applied ${acls.length} ACLs on ${env.KAFKA_BROKERS}\n`);
}
