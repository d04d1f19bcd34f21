import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The current value of a KPI key, exactly as last published on `lgsp.kpi.v1`. */
@Entity({ name: 'kpi_value' })
export class KpiValueEntity {
  @PrimaryColumn({ type: 'text' })
  kpi!: string;

  @PrimaryColumn({ type: 'text' })
  area!: string;

  @PrimaryColumn({ type: 'text' })
  period!: string;

  @Column({ type: 'text' })
  bs!: string;

  @Column({ type: 'integer' })
  year!: number;

  @Column({ name: 'area_name', type: 'text' })
  areaName!: string;

  @Column({ type: 'text' })
  unit!: string;

  @Column({ type: 'double precision', nullable: true })
  value!: number | null;

  @Column({ type: 'double precision', nullable: true })
  numerator!: number | null;

  @Column({ type: 'double precision', nullable: true })
  denominator!: number | null;

  @Column({ name: 'denominator_period', type: 'text', nullable: true })
  denominatorPeriod!: string | null;

  @Column({ type: 'text' })
  status!: 'final' | 'provisional';

  @Column({ type: 'jsonb' })
  completeness!: { expected: string[]; reported: string[] };

  @Column({ type: 'jsonb' })
  inputs!: { source: string; feedId: string; measure: string; qualifier?: string }[];

  @Column({ type: 'text', nullable: true })
  note!: string | null;

  @Column({ name: 'year_to_date', type: 'double precision', nullable: true })
  yearToDate!: number | null;

  @Column({ type: 'integer' })
  revision!: number;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId!: string;

  @Column({ name: 'computed_at', type: 'timestamptz' })
  computedAt!: Date;
}
