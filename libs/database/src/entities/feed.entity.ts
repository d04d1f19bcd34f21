import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A feed the ingest validated and claimed for the exchange that brought it: the duplicate
 * check of `(source, feedId)`. Its observations are in `feed_slice`, one row per group.
 */
@Entity({ name: 'feed' })
export class FeedEntity {
  @PrimaryColumn({ type: 'text' })
  source!: string;

  @PrimaryColumn({ name: 'feed_id', type: 'text' })
  feedId!: string;

  @Column({ name: 'sent_at', type: 'timestamptz' })
  sentAt!: Date;

  @Column({ type: 'text' })
  period!: string;

  @Column({ type: 'text' })
  status!: string;

  @Column({ name: 'observation_count', type: 'integer' })
  observationCount!: number;

  @Column({ name: 'received_at', type: 'timestamptz' })
  receivedAt!: Date;

  @Column({ name: 'processed_at', type: 'timestamptz' })
  processedAt!: Date;

  @Column({ type: 'jsonb' })
  origin!: Record<string, unknown>;

  /** The exchange that owns the feed (null for feeds of a hub before migration 1764100000000). */
  @Column({ name: 'exchange_id', type: 'bigint', nullable: true })
  exchangeId!: string | null;
}
