import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { createIdempotentProducer, KAFKA } from '@app/kafka';
import type { Kafka, Message, Producer } from 'kafkajs';

/** The HTTP edge's producer: a record is durable once every in-sync replica has it (acks -1). */
@Injectable()
export class FeedPublisher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private producer?: Producer;

  constructor(@Inject(KAFKA) private readonly kafka: Kafka) {}

  async onApplicationBootstrap(): Promise<void> {
    const producer = createIdempotentProducer(this.kafka);
    await producer.connect();
    this.producer = producer;
  }

  async send(topic: string, message: Message): Promise<void> {
    if (!this.producer) throw new Error('the producer is not connected yet');
    await this.producer.send({ topic, acks: -1, messages: [message] });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.producer?.disconnect();
  }
}
