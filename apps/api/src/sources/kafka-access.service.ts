import { HUB_CONFIG, type HubConfig } from '@app/config';
import { sourceTopic } from '@app/contract';
import {
  createAcls,
  deleteAclsOf,
  KAFKA,
  newKafkaPassword,
  ScramCredentials,
  sourceAcls,
  sourcePrincipal,
} from '@app/kafka';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Kafka } from 'kafkajs';

/** What a source needs to write its topic on a secured broker; the password is shown once. */
export interface KafkaCredential {
  readonly bootstrap: string;
  readonly securityProtocol: 'SASL_SSL';
  readonly mechanism: 'SCRAM-SHA-512';
  readonly username: string;
  readonly password: string;
  readonly topic: string;
}

/**
 * A source's access to a secured broker (issue 24): its SCRAM credential and the ACLs that
 * let it write its own topic and nothing else. Off unless the api runs against a secured
 * broker with Kafka's tools at hand (KAFKA_SASL_*, KAFKA_SSL_CA_FILE, KAFKA_TOOLS_CLASSPATH).
 */
@Injectable()
export class KafkaAccess {
  private readonly log = new Logger(KafkaAccess.name);
  private readonly scram?: ScramCredentials;

  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
  ) {
    const c = config;
    if (c.KAFKA_SASL_USERNAME && c.KAFKA_SSL_CA_FILE && c.KAFKA_TOOLS_CLASSPATH)
      this.scram = new ScramCredentials({
        classpath: c.KAFKA_TOOLS_CLASSPATH,
        brokers: c.KAFKA_BROKERS,
        username: c.KAFKA_SASL_USERNAME,
        password: c.KAFKA_SASL_PASSWORD ?? '',
        caFile: c.KAFKA_SSL_CA_FILE,
      });
  }

  get enabled(): boolean {
    return this.scram !== undefined;
  }

  /** A new password for the source's principal, and its ACLs. */
  async grant(source: string): Promise<KafkaCredential> {
    const password = newKafkaPassword();
    await this.scram!.upsert(sourcePrincipal(source), password);
    await createAcls(this.kafka, sourceAcls(source));
    this.log.log(`source ${source}: SCRAM credential set, may write ${sourceTopic(source)}`);
    return {
      bootstrap: this.config.KAFKA_BROKERS,
      securityProtocol: 'SASL_SSL',
      mechanism: 'SCRAM-SHA-512',
      username: sourcePrincipal(source),
      password,
      topic: sourceTopic(source),
    };
  }

  /** The source may write its topic again (a suspended source reactivated). */
  async allow(source: string): Promise<void> {
    await createAcls(this.kafka, sourceAcls(source));
  }

  /** The source may write nothing; `remove` also deletes its credential. */
  async revoke(source: string, remove = false): Promise<void> {
    const n = await deleteAclsOf(this.kafka, sourcePrincipal(source));
    if (remove) await this.scram!.remove(sourcePrincipal(source));
    this.log.log(`source ${source}: ${n} ACL(s) removed${remove ? ', credential deleted' : ''}`);
  }
}
