import { ADMIN_UNITS } from '@app/service';
import { BadRequestException, Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type AdminUnits, mustParsePeriod, monthSpan } from '@app/catalogue';
import type { KpiEvent } from '@app/contract';
import { toCsv } from '../common/csv.js';
import { KpiQueryDto, KpiSeriesQueryDto } from './kpi-query.dto.js';
import { mustCover, readScope } from '../common/read-scope.js';
import { Needs, type RequestWithPrincipal } from '../common/roles.guard.js';
import { KPI_LIMIT, kpiCursor, KpiReadService, parseKpiCursor } from './kpi-read.service.js';
import { KpiPage, KpiSeries } from './kpi.responses.js';

interface HeaderSink {
  setHeader(name: string, value: string): void;
}

const CSV_HEADER = [
  'kpi',
  'area',
  'areaName',
  'period',
  'value',
  'unit',
  'numerator',
  'denominator',
  'denominatorPeriod',
  'status',
  'revision',
  'computedAt',
  'note',
  'yearToDate',
  'target',
  'targetPeriod',
  'attainment',
  'met',
  'plan',
];

function csv(res: HeaderSink, name: string, items: readonly KpiEvent[]): string {
  res.setHeader('content-type', 'text/csv; charset=utf-8');
  res.setHeader('content-disposition', `attachment; filename="${name}.csv"`);
  return toCsv(
    CSV_HEADER,
    items.map((e) => [
      e.kpi,
      e.area,
      e.areaName,
      e.period,
      e.value,
      e.unit,
      e.numerator,
      e.denominator,
      e.denominatorPeriod,
      e.status,
      e.revision,
      e.computedAt,
      e.note,
      e.yearToDate,
      e.target?.target,
      e.target?.targetPeriod,
      e.target?.ratio,
      e.target?.met,
      e.target ? `${e.target.issuingBody} ${e.target.documentNumber}` : undefined,
    ]),
  );
}

/** The current value of every KPI key: what the latest event per key on `lgsp.kpi.v1` says. */
@ApiTags('kpis')
@Controller('v1/kpis')
@Needs('read')
export class KpisController {
  constructor(
    private readonly kpis: KpiReadService,
    @Inject(ADMIN_UNITS) private readonly units: AdminUnits,
  ) {}

  @Get()
  @ApiOperation({ summary: 'KPIs by area, period and KPI (JSON, or CSV with format=csv)' })
  @ApiOkResponse({
    type: KpiPage,
    description:
      'KPI events as on lgsp.kpi.v1, with the applicable target. CSV: the next cursor in the X-Next-Cursor header.',
  })
  async list(
    @Query() q: KpiQueryDto,
    @Res({ passthrough: true }) res: HeaderSink,
    @Req() req: RequestWithPrincipal,
  ) {
    const scope = readScope(this.units, req);
    const after = q.after === undefined ? undefined : parseKpiCursor(q.after);
    if (q.after !== undefined && !after)
      throw new BadRequestException('after must be a cursor returned as next');
    const limit = q.limit ? Number(q.limit) : KPI_LIMIT;
    const found = await this.kpis.find(
      {
        ...(q.area ? { area: q.area } : {}),
        ...(q.period ? { period: q.period } : {}),
        ...(q.kpi ? { kpi: q.kpi } : {}),
        ...(after ? { after } : {}),
        ...(scope ? { scope } : {}),
      },
      limit + 1,
    );
    const more = found.length > limit;
    const items = more ? found.slice(0, limit) : found;
    const next = more ? kpiCursor(items.at(-1)!) : null;
    if (q.format === 'csv') {
      if (next) res.setHeader('x-next-cursor', next);
      return csv(res, 'kpis', items);
    }
    return { count: items.length, items, next, more };
  }

  @Get('series')
  @ApiOperation({ summary: "One KPI's time series for an area, oldest first" })
  @ApiOkResponse({ type: KpiSeries })
  async series(
    @Query() q: KpiSeriesQueryDto,
    @Res({ passthrough: true }) res: HeaderSink,
    @Req() req: RequestWithPrincipal,
  ) {
    const scope = readScope(this.units, req);
    if (scope && !scope.has('2008', q.area)) mustCover(scope, '2025', q.area);
    const items = (
      await this.kpis.find({
        kpi: q.kpi,
        area: q.area,
        ...(q.from ? { fromYear: Number(q.from) } : {}),
        ...(q.to ? { toYear: Number(q.to) } : {}),
      })
    )
      .filter((e) => !q.granularity || mustParsePeriod(e.period).kind === q.granularity)
      .filter((e) => !scope || scope.covers(e))
      .sort((a, b) => periodOrder(a.period) - periodOrder(b.period));
    return q.format === 'csv'
      ? csv(res, `${q.kpi}-${q.area}`, items)
      : { kpi: q.kpi, area: q.area, count: items.length, items };
  }
}

/** Oldest first; within a start month, the longer period first. */
function periodOrder(code: string): number {
  const p = mustParsePeriod(code);
  const [start, end] = monthSpan(p);
  return p.year * 10_000 + start * 100 + (12 - (end - start));
}
