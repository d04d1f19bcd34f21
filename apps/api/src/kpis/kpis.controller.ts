import { ADMIN_UNITS } from '@app/service';
import {
  BadRequestException,
  Controller,
  Get,
  Inject,
  NotFoundException,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type AdminUnits, type BoundarySet, mustParsePeriod, monthSpan } from '@app/catalogue';
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
  'areaSet',
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
  'basis',
];

function csv(res: HeaderSink, name: string, items: readonly KpiEvent[]): string {
  res.setHeader('content-type', 'text/csv; charset=utf-8');
  res.setHeader('content-disposition', `attachment; filename="${name}.csv"`);
  return toCsv(
    CSV_HEADER,
    items.map((e) => [
      e.kpi,
      e.area,
      e.areaSet,
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
      e.basis ?? 'published',
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
    if (q.official === 'true' && q.basis === 'rebased')
      throw new BadRequestException('re-based history is never official: drop basis or official');
    const limit = q.limit ? Number(q.limit) : KPI_LIMIT;
    const found = await this.kpis.find(
      {
        ...(q.area ? { area: q.area } : {}),
        ...(q.areaSet ? { areaSet: q.areaSet } : {}),
        ...(q.basis === 'rebased' ? { rebased: true } : {}),
        ...(q.period ? { period: q.period } : {}),
        ...(q.kpi ? { kpi: q.kpi } : {}),
        ...(q.level ? { level: q.level } : {}),
        ...(q.official === 'true' ? { official: true } : {}),
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
  @ApiOperation({
    summary: "One KPI's time series for a unit, oldest first",
    description:
      "A series never mixes units: without areaSet it is the unit the code names today (the 2025 lists, else the 2008 ones), and the answer says which. basis=rebased (2025 provinces): the periods before the reform re-based over today's boundaries, the later ones as published.",
  })
  @ApiOkResponse({ type: KpiSeries })
  async series(
    @Query() q: KpiSeriesQueryDto,
    @Res({ passthrough: true }) res: HeaderSink,
    @Req() req: RequestWithPrincipal,
  ) {
    const areaSet: BoundarySet = q.areaSet ?? (this.units.get('2025', q.area) ? '2025' : '2008');
    const unit = this.units.get(areaSet, q.area);
    if (!unit)
      throw new NotFoundException(
        `area ${q.area} is not a unit of the ${areaSet} lists${q.areaSet ? '' : ' or the 2008 ones'}: see GET /v1/catalogue/areas`,
      );
    const rebased = q.basis === 'rebased';
    if (rebased && (areaSet !== '2025' || unit.level !== 'province'))
      throw new BadRequestException(
        `re-based history is kept for the 34 provinces of the 2025 lists; area ${q.area} of the ${areaSet} lists is not one (ask with basis=published)`,
      );
    mustCover(readScope(this.units, req), areaSet, q.area);
    const filter = {
      kpi: q.kpi,
      area: q.area,
      ...(q.from ? { fromYear: Number(q.from) } : {}),
      ...(q.to ? { toYear: Number(q.to) } : {}),
    };
    const items = [
      ...(rebased ? await this.kpis.find({ ...filter, rebased }) : []),
      ...(await this.kpis.find({ ...filter, areaSet })),
    ]
      .filter((e) => !q.granularity || mustParsePeriod(e.period).kind === q.granularity)
      .sort((a, b) => periodOrder(a.period) - periodOrder(b.period));
    const basis = rebased ? 'rebased' : 'published';
    return q.format === 'csv'
      ? csv(res, `${q.kpi}-${areaSet}-${q.area}`, items)
      : {
          kpi: q.kpi,
          area: q.area,
          areaSet,
          areaName: unit.name,
          basis,
          note: seriesNote(areaSet, q.area, unit.name, q.areaSet === undefined, rebased),
          count: items.length,
          items,
        };
  }
}

/** What a series is of: one unit, said plainly (a chart of two units shows a fall that never was). */
function seriesNote(
  areaSet: BoundarySet,
  area: string,
  name: string,
  implied: boolean,
  rebased: boolean,
): string {
  const unit = `${name} (${area}) of the ${areaSet} lists`;
  if (areaSet === '2008')
    return `${unit}: its figures up to the 2025-07-01 reform${implied ? '; the code names no unit of the 2025 lists' : ''}`;
  if (rebased)
    return `${unit}: periods before the 2025-07-01 reform re-based over its boundaries (basis rebased-2025), later ones as published`;
  return `${unit}: its figures from the 2025-07-01 reform on${implied ? ' (the unit the code names today; areaSet=2008 for the unit it named before)' : ''}; basis=rebased adds its history before the reform`;
}

/** Oldest first; within a start month, the longer period first. */
function periodOrder(code: string): number {
  const p = mustParsePeriod(code);
  const [start, end] = monthSpan(p);
  return p.year * 10_000 + start * 100 + (12 - (end - start));
}
