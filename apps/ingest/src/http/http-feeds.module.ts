import { Module } from '@nestjs/common';
import { FeedsModule } from '../feeds/feeds.module.js';
import { FeedPublisher } from './feed-publisher.js';
import { FeedsHttpController } from './feeds-http.controller.js';

/** Feeds over HTTP, checked like Kafka's and then put on the shared topic. */
@Module({
  imports: [FeedsModule],
  controllers: [FeedsHttpController],
  providers: [FeedPublisher],
})
export class HttpFeedsModule {}
