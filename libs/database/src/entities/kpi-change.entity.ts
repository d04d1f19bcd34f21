import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Every published KPI revision, in commit order: the change feed (`GET /v1/kpi-changes`),
 * the outbox the relay publishes to `lgsp.kpi.v1` byte for byte, and, its latest revision per
 * key, the current value the API serves (view `kpi_value`).
 */
@Entity({ name: 'kpi_change' })
export class KpiChangeEntity {
  @PrimaryColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'text' })
  kpi!: string;

  @Column({ type: 'text' })
  area!: string;

  @Column({ type: 'text' })
  period!: string;

  /** 1, 2, 3, ... per key, without a gap (unique per key). */
  @Column({ type: 'integer' })
  revision!: number;

  /** The KPI event (lgsp.kpi.v1), serialised once. */
  @Column({ type: 'text' })
  payload!: string;

  /** The flush (batch window) that wrote it: at most one revision per key and flush. */
  @Column({ name: 'flush_id', type: 'bigint', nullable: true })
  flushId!: string | null;

  @Column({ name: 'changed_at', type: 'timestamptz' })
  changedAt!: Date;
}
