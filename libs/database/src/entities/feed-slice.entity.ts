import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A feed's observations within one aggregation group, as applied: the aggregator's state. */
@Entity({ name: 'feed_slice' })
export class FeedSliceEntity {
  /** The group: a 2025 province code. */
  @PrimaryColumn({ name: 'grp', type: 'text' })
  group!: string;

  @PrimaryColumn({ type: 'text' })
  source!: string;

  @PrimaryColumn({ name: 'feed_id', type: 'text' })
  feedId!: string;

  /** Order of application within the group. */
  @Column({ type: 'bigint' })
  seq!: string;

  @Column({ type: 'text' })
  period!: string;

  @Column({ name: 'exchange_id', type: 'bigint', nullable: true })
  exchangeId!: string | null;

  @Column({ name: 'observation_count', type: 'integer' })
  observationCount!: number;

  /** The slice record (`lgsp.feed-slice.v1`), as it came off the topic. */
  @Column({ type: 'text' })
  payload!: string;

  @Column({ name: 'applied_at', type: 'timestamptz' })
  appliedAt!: Date;
}

/** Per group: slices applied, and slices whose KPI changes are published (ADR 0007). */
@Entity({ name: 'aggregation_group' })
export class AggregationGroupEntity {
  @PrimaryColumn({ name: 'grp', type: 'text' })
  group!: string;

  @Column({ name: 'applied_seq', type: 'bigint' })
  appliedSeq!: string;

  @Column({ name: 'published_seq', type: 'bigint' })
  publishedSeq!: string;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

/** Where the outbox relay is in the change log, per topic. */
@Entity({ name: 'relay_position' })
export class RelayPositionEntity {
  @PrimaryColumn({ type: 'text' })
  topic!: string;

  @Column({ name: 'last_id', type: 'bigint' })
  lastId!: string;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
