import { sourceTopic, TOPICS } from '@app/contract';
import kafkajs, { type AclEntry, type Kafka } from 'kafkajs';

// kafkajs is CommonJS: its enums are read off the default export under ESM.
const {
  AclOperationTypes: Op,
  AclPermissionTypes,
  AclResourceTypes: Res,
  ResourcePatternTypes: Pattern,
} = kafkajs;

type Operation = (typeof Op)[keyof typeof Op];

/** The principals of a secured hub (issue 24): one per service, `User:<name>` on the broker. */
export const SERVICE_PRINCIPALS = {
  ingest: 'hub-ingest',
  aggregator: 'hub-aggregator',
  relay: 'hub-relay',
  api: 'hub-api',
} as const;

/** The SCRAM principal of a source: its id, as operators know it. */
export const sourcePrincipal = (source: string): string => source;

const allow = (
  principal: string,
  resourceType: AclEntry['resourceType'],
  resourceName: string,
  operations: readonly Operation[],
  prefixed = false,
): AclEntry[] =>
  operations.map((operation) => ({
    principal: `User:${principal}`,
    host: '*',
    resourceType,
    resourceName,
    resourcePatternType: prefixed ? Pattern.PREFIXED : Pattern.LITERAL,
    operation,
    permissionType: AclPermissionTypes.ALLOW,
  }));

/** What every service needs of the hub's topics: see them and make sure they exist as specified. */
const ENSURE: readonly Operation[] = [
  Op.DESCRIBE,
  Op.DESCRIBE_CONFIGS,
  Op.CREATE,
  Op.ALTER_CONFIGS,
];
const HUB_TOPICS = [TOPICS.feeds, TOPICS.dlq, TOPICS.slices, TOPICS.kpi, TOPICS.kpiRebased];

/**
 * Least privilege for the hub's own services (consumer groups by prefix). The ingest reads every feed topic (the shared
 * one and each source's: the prefix) and writes slices and the DLQ, and the shared topic for
 * HTTP feeds; the aggregator reads slices and writes the DLQ; the relay writes KPI events; the
 * api replays DLQ records to the topic they came from and onboards sources (their topics,
 * ACLs and SCRAM credentials: Alter on the cluster).
 */
export function serviceAcls(groups: { ingest: string; aggregator: string }): AclEntry[] {
  const { ingest, aggregator, relay, api } = SERVICE_PRINCIPALS;
  const topics = (who: string) => HUB_TOPICS.flatMap((t) => allow(who, Res.TOPIC, t, ENSURE));
  return [
    ...[ingest, aggregator, relay, api].flatMap((who) => [
      ...topics(who),
      ...allow(who, Res.CLUSTER, 'kafka-cluster', [Op.DESCRIBE]),
    ]),
    ...allow(ingest, Res.TOPIC, TOPICS.feeds, [Op.READ, Op.WRITE, ...ENSURE], true),
    ...allow(ingest, Res.TOPIC, TOPICS.slices, [Op.WRITE]),
    ...allow(ingest, Res.TOPIC, TOPICS.dlq, [Op.WRITE]),
    ...allow(ingest, Res.GROUP, groups.ingest, [Op.READ, Op.DESCRIBE], true),
    ...allow(aggregator, Res.TOPIC, TOPICS.slices, [Op.READ]),
    ...allow(aggregator, Res.TOPIC, TOPICS.dlq, [Op.WRITE]),
    ...allow(aggregator, Res.GROUP, groups.aggregator, [Op.READ, Op.DESCRIBE], true),
    ...allow(relay, Res.TOPIC, TOPICS.kpi, [Op.WRITE]),
    ...allow(relay, Res.TOPIC, TOPICS.kpiRebased, [Op.WRITE]),
    ...allow(api, Res.TOPIC, TOPICS.feeds, [Op.WRITE, ...ENSURE], true),
    ...allow(api, Res.CLUSTER, 'kafka-cluster', [Op.ALTER, Op.ALTER_CONFIGS, Op.DESCRIBE_CONFIGS]),
  ];
}

/** A source writes its own topic, and nothing else: not the shared topic, not another's. */
export function sourceAcls(source: string): AclEntry[] {
  return allow(sourcePrincipal(source), Res.TOPIC, sourceTopic(source), [Op.WRITE, Op.DESCRIBE]);
}

/**
 * A warehouse reads the KPI events and the re-based history, in consumer groups whose names
 * start with its own.
 */
export function warehouseAcls(principal: string): AclEntry[] {
  return [
    ...allow(principal, Res.TOPIC, TOPICS.kpi, [Op.READ, Op.DESCRIBE]),
    ...allow(principal, Res.TOPIC, TOPICS.kpiRebased, [Op.READ, Op.DESCRIBE]),
    ...allow(principal, Res.GROUP, principal, [Op.READ, Op.DESCRIBE], true),
  ];
}

export async function createAcls(kafka: Kafka, acl: AclEntry[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createAcls({ acl });
  } finally {
    await admin.disconnect();
  }
}

/** Removes every ACL of a principal (a source suspended or removed). */
export async function deleteAclsOf(kafka: Kafka, principal: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const r = await admin.deleteAcls({
      filters: [
        {
          resourceType: Res.ANY,
          resourcePatternType: Pattern.ANY,
          principal: `User:${principal}`,
          host: '*',
          operation: Op.ANY,
          permissionType: AclPermissionTypes.ANY,
        },
      ],
    });
    return r.filterResponses.reduce((n, f) => n + f.matchingAcls.length, 0);
  } finally {
    await admin.disconnect();
  }
}
