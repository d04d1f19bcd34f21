import { Module } from '@nestjs/common';
import { FeedsController } from './feeds.controller.js';
import { NormaliseFeedsHandler } from './normalise-feeds.handler.js';

/** Raw feeds from Kafka: validated, audited, claimed and forwarded as slices. */
@Module({
  controllers: [FeedsController],
  providers: [NormaliseFeedsHandler],
  exports: [NormaliseFeedsHandler],
})
export class FeedsModule {}
