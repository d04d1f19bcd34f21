import { type AdminUnits, LANGS, type Lang } from '@app/catalogue';
import { HUB_CONFIG, type HubConfig } from '@app/config';
import { PERIOD_PATTERN } from '@app/contract';
import { ADMIN_UNITS } from '@app/service';
import {
  Controller,
  Get,
  Inject,
  Param,
  Query,
  Req,
  Res,
  ServiceUnavailableException,
  StreamableFile,
} from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { mustCover, readScope } from '../common/read-scope.js';
import { Needs, type RequestWithPrincipal } from '../common/roles.guard.js';
import { PdfUnavailable, printPdf } from './pdf.js';
import type { ProvinceReport } from './report.model.js';
import { reportCsv, reportHtml } from './report.render.js';
import { ReportPointView, ReportView } from './report.responses.js';
import { ReportService } from './report.service.js';

export class ReportParams {
  @ApiProperty({ example: '11' })
  @Matches(/^\d{2}$/, { message: 'area must be a province: 2 digits' })
  area!: string;

  @ApiProperty({ example: '2024-H1' })
  @Matches(PERIOD_PATTERN, {
    message: 'period must be YYYY, YYYY-H1|H2, YYYY-Q1..Q4 or YYYY-MM',
  })
  period!: string;
}

export class ReportQuery {
  /** `vi` (default) or `en`. */
  @ApiPropertyOptional({ enum: LANGS })
  @IsOptional()
  @IsIn(LANGS, { message: 'lang must be vi or en' })
  lang?: Lang;

  /**
   * `html` (default, printable), `pdf` (printed by headless Chromium), `csv` (for Excel) or
   * `json` (the report as data).
   */
  @ApiPropertyOptional({ enum: ['html', 'pdf', 'csv', 'json'] })
  @IsOptional()
  @IsIn(['html', 'pdf', 'csv', 'json'], { message: 'format must be html, pdf, csv or json' })
  format?: 'html' | 'pdf' | 'csv' | 'json';

  /**
   * The lists `area` is a code of; absent: those of the period. `2025` for a period before the
   * reform: today's province, re-based.
   */
  @ApiPropertyOptional({ enum: ['2008', '2025'] })
  @IsOptional()
  @IsIn(['2008', '2025'], { message: 'areaSet must be 2008 or 2025' })
  areaSet?: '2008' | '2025';
}

interface Reply {
  setHeader(name: string, value: string): void;
}

/** A province's periodic report on its digital infrastructure (issue 27). */
@ApiTags('reports')
@Controller('v1/reports')
@Needs('read')
export class ReportsController {
  constructor(
    private readonly reports: ReportService,
    @Inject(ADMIN_UNITS) private readonly units: AdminUnits,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  @Get(':area/:period')
  @ApiOperation({
    summary: "A province's report for a period: HTML, PDF or CSV, Vietnamese or English",
    description:
      "Each indicator with its value and unit, the change against the previous period and the same period a year before, the plan's target and attainment; a table per district (communes in the 2025 lists), charts of each series, completeness and the data notes. Figures are the query API's; the approval state says whether they are official.",
  })
  @ApiExtraModels(ReportView, ReportPointView)
  @ApiOkResponse({
    description: 'the report',
    content: {
      'text/html': { schema: { type: 'string' } },
      'application/pdf': { schema: { type: 'string', format: 'binary' } },
      'text/csv': { schema: { type: 'string' } },
      'application/json': { schema: { $ref: getSchemaPath(ReportView) } },
    },
  })
  async report(
    @Param() p: ReportParams,
    @Query() q: ReportQuery,
    @Req() req: RequestWithPrincipal,
    @Res({ passthrough: true }) res: Reply,
  ): Promise<string | StreamableFile | ProvinceReport> {
    const lang = q.lang ?? 'vi';
    const { bs } = this.reports.unit(p.area, p.period, q.areaSet);
    mustCover(readScope(this.units, req), bs, p.area);
    const r = await this.reports.report(p.area, p.period, lang, q.areaSet);
    const name = `report-${p.area}-${p.period}-${lang}`;
    if (q.format === 'json') return r;
    if (q.format === 'csv') {
      res.setHeader('content-type', 'text/csv; charset=utf-8');
      res.setHeader('content-disposition', `attachment; filename="${name}.csv"`);
      return reportCsv(r);
    }
    const query = (more: Record<string, string>) =>
      `?${new URLSearchParams({ ...(q.areaSet ? { areaSet: q.areaSet } : {}), lang, ...more }).toString()}`;
    const html = reportHtml(r, {
      csv: query({ format: 'csv' }),
      other: query({ lang: lang === 'vi' ? 'en' : 'vi' }),
    });
    if (q.format === 'pdf') {
      try {
        // A Buffer returned as is would go out as JSON.
        return new StreamableFile(await printPdf(html, this.config.CHROMIUM_PATH), {
          type: 'application/pdf',
          disposition: `inline; filename="${name}.pdf"`,
        });
      } catch (e) {
        if (e instanceof PdfUnavailable) throw new ServiceUnavailableException(e.message);
        throw e;
      }
    }
    res.setHeader('content-type', 'text/html; charset=utf-8');
    return html;
  }
}
