import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Why a PDF could not be made, for the caller to turn into an answer. */
export class PdfUnavailable extends Error {}

/** Prints in flight at once: each is a Chromium process, and a PDF is not worth a busy host. */
const MAX_PRINTS = 2;
let printing = 0;

/**
 * Prints a self-contained HTML page to PDF with headless Chromium (no library: the browser's
 * own `--print-to-pdf`), in a profile of its own that is removed afterwards. The page's own
 * Content-Security-Policy allows no script and no request.
 */
export async function printPdf(html: string, chromium: string): Promise<Buffer> {
  if (!existsSync(chromium))
    throw new PdfUnavailable(
      `no Chromium at ${chromium}: install it (apt-get install chromium) or set CHROMIUM_PATH; the HTML report works without it`,
    );
  if (printing >= MAX_PRINTS)
    throw new PdfUnavailable(`${MAX_PRINTS} reports are being printed: try again in a few seconds`);
  printing++;
  const dir = await mkdtemp(join(tmpdir(), 'lgsp-report-'));
  try {
    const page = join(dir, 'report.html');
    const pdf = join(dir, 'report.pdf');
    await writeFile(page, html);
    await run(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        `--user-data-dir=${join(dir, 'profile')}`,
        '--no-pdf-header-footer',
        `--print-to-pdf=${pdf}`,
        `file://${page}`,
      ],
      { timeout: 60_000, maxBuffer: 1 << 20 },
    );
    return await readFile(pdf);
  } catch (e) {
    if (e instanceof PdfUnavailable) throw e;
    throw new PdfUnavailable(`Chromium could not print the report: ${(e as Error).message}`);
  } finally {
    printing--;
    await rm(dir, { recursive: true, force: true });
  }
}
