import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An accepted feed: the "already processed" marker, written with its effects. */
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
}
