import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The current value of one source's observation `(source, measure, area, period)`: the feed
 * with the latest `sentAt` (ties: greater feedId) wins. A retraction stays as a tombstone so
 * that an older feed arriving later cannot bring the value back.
 */
@Entity({ name: 'observation' })
export class ObservationEntity {
  @PrimaryColumn({ type: 'text' })
  source!: string;

  @PrimaryColumn({ type: 'text' })
  measure!: string;

  @PrimaryColumn({ type: 'text' })
  area!: string;

  @PrimaryColumn({ type: 'text' })
  period!: string;

  /** Boundary set of the period's last day: '2008' or '2025'. */
  @Column({ type: 'text' })
  bs!: string;

  /** `bs:province` of the area, e.g. `2008:37`: the unit of locking and loading. */
  @Column({ name: 'province_node', type: 'text' })
  provinceNode!: string;

  @Column({ type: 'integer' })
  year!: number;

  @Column({ type: 'double precision', nullable: true })
  value!: number | null;

  @Column({ type: 'text', array: true, nullable: true })
  items!: string[] | null;

  @Column({ type: 'boolean' })
  retracted!: boolean;

  @Column({ type: 'text', nullable: true })
  qualifier!: string | null;

  @Column({ type: 'text' })
  status!: string;

  @Column({ name: 'feed_id', type: 'text' })
  feedId!: string;

  @Column({ name: 'sent_at', type: 'timestamptz' })
  sentAt!: Date;
}
