import { Controller, Get, Header, Redirect } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { readFileSync } from 'node:fs';

/** The page sits next to this module (copied as an asset by `nest build`): no build step of its own. */
const PAGE = readFileSync(new URL('./dashboard.html', import.meta.url), 'utf8');

@ApiExcludeController()
@Controller()
export class DashboardController {
  @Get('dashboard')
  @Header('content-type', 'text/html; charset=utf-8')
  page(): string {
    return PAGE;
  }

  @Get()
  @Redirect('/dashboard', 302)
  root(): void {}
}
