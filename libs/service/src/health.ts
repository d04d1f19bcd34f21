import { applyDecorators, HttpException, HttpStatus } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiOkResponse,
  ApiProperty,
  ApiPropertyOptional,
  ApiServiceUnavailableResponse,
} from '@nestjs/swagger';

export interface HealthCheck {
  readonly ok: boolean;
  readonly detail?: unknown;
}

/** A health report as OpenAPI describes it (the same shape as `HealthReport`). */
class HealthCheckView {
  @ApiProperty() ok!: boolean;
  @ApiPropertyOptional({ description: "the check's figures, or why it fails" }) detail?: object;
}

export class HealthReportView {
  @ApiProperty() service!: string;
  @ApiProperty({ enum: ['ok', 'unhealthy'] }) status!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/HealthCheckView' },
  })
  checks!: Record<string, HealthCheckView>;
}

/** The responses of a health endpoint: 200 with the report, or 503 with the same report. */
export function HealthResponses(): MethodDecorator {
  return applyDecorators(
    ApiExtraModels(HealthCheckView),
    ApiOkResponse({ type: HealthReportView }),
    ApiServiceUnavailableResponse({ type: HealthReportView, description: 'a check fails' }),
  );
}

export interface HealthReport {
  readonly service: string;
  readonly status: 'ok' | 'unhealthy';
  readonly checks: Record<string, HealthCheck>;
}

/** Runs the checks; a failing one turns the answer into a 503 with the whole report. */
export async function healthReport(
  service: string,
  checks: Record<string, () => Promise<HealthCheck> | HealthCheck>,
): Promise<HealthReport> {
  const results: Record<string, HealthCheck> = {};
  const all: Record<string, () => Promise<HealthCheck> | HealthCheck> = {
    memory: memoryCheck,
    ...checks,
  };
  for (const [name, check] of Object.entries(all)) {
    try {
      results[name] = await check();
    } catch (e) {
      results[name] = { ok: false, detail: e instanceof Error ? e.message : String(e) };
    }
  }
  const ok = Object.values(results).every((r) => r.ok);
  const report: HealthReport = { service, status: ok ? 'ok' : 'unhealthy', checks: results };
  if (!ok) throw new HttpException(report, HttpStatus.SERVICE_UNAVAILABLE);
  return report;
}

/** A database check: one round trip. */
export async function databaseCheck(
  query: (sql: string) => Promise<unknown>,
): Promise<HealthCheck> {
  await query('SELECT 1');
  return { ok: true };
}

/** The process's memory, in MB (informational: always ok). */
function memoryCheck(): HealthCheck {
  const m = process.memoryUsage();
  const mb = (n: number): number => Math.round(n / 2 ** 20);
  return {
    ok: true,
    detail: {
      rssMb: mb(m.rss),
      heapUsedMb: mb(m.heapUsed),
      heapTotalMb: mb(m.heapTotal),
      externalMb: mb(m.external),
      arrayBuffersMb: mb(m.arrayBuffers),
    },
  };
}

/**
 * A consumer is alive until it stops for good (its retries spent, or a crash kafkajs does not
 * restart); one starting, or rejoining its group with new topics, is alive too.
 */
export function consumerAlive(status: { failed: boolean } | undefined): HealthCheck {
  return { ok: status === undefined || !status.failed, detail: status ?? 'starting' };
}
