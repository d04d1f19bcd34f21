import { Module } from '@nestjs/common';
import { KafkaAccess } from './kafka-access.service.js';
import { SourcesController } from './sources.controller.js';

/** The source registry, with each source's Kafka credential and ACLs. */
@Module({ controllers: [SourcesController], providers: [KafkaAccess] })
export class SourcesModule {}
