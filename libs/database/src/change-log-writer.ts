import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** The part of a pg client a COPY needs. */
export type CopyClient = Pick<PoolClient, 'query'>;

/** Bytes of encoded rows per COPY: large enough to amortise a statement, small enough to pipeline. */
const SEND_BYTES = 1 << 20;
const INITIAL_BYTES = 64 << 10;

/** COPY's text format: backslash, tab, newline and carriage return are escaped. */
const SPECIAL = /[\\\t\n\r]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
export function copyText(s: string): string {
  return SPECIAL.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]!) : s;
}

/**
 * `copyText` for compact JSON (JSON.stringify's output): it holds no raw tab or line break,
 * only backslashes of its escapes, found far faster than by a pattern over a 1 kB event.
 */
export function copyJson(s: string): string {
  return s.includes('\\') ? s.replaceAll('\\', '\\\\') : s;
}

/**
 * Appends revisions to the change log (`kpi_change`) with COPY. Each row is encoded into a
 * buffer as it is added, so an event's JSON lives only until it is encoded (a flush writes
 * millions in a backfill; strings kept until a statement returns are what the garbage
 * collector copies and promotes). A buffer goes out as one COPY once it holds about 1 MB,
 * and the next fills while PostgreSQL takes it: at most one COPY in flight, on the caller's
 * transaction. Measured against a multi-row INSERT of the same 1 KB rows: about a third less
 * PostgreSQL CPU.
 */
export class ChangeLogWriter {
  /**
   * Two buffers: one being filled, the other with the COPY in flight. They start small and
   * grow to what a send holds: a writer lives for one flush, often of a handful of events.
   */
  private buffers = [Buffer.allocUnsafe(INITIAL_BYTES), Buffer.allocUnsafe(INITIAL_BYTES)];
  private length = 0;
  private inFlight?: Promise<void>;
  private flushTag: string;
  rows = 0;

  constructor(
    private readonly client: CopyClient,
    flushId: number,
    private readonly sendBytes = SEND_BYTES,
  ) {
    this.flushTag = `\t${flushId}\n`;
  }

  /**
   * Adds one revision; `payload` is its event as compact JSON (`serializeKpiEvent`). Once the
   * buffer is full this sends it and returns the wait for the previous COPY: await it before
   * the next add.
   */
  add(
    kpi: string,
    area: string,
    period: string,
    revision: number,
    payload: string,
  ): Promise<void> | undefined {
    this.put(
      `${copyText(kpi)}\t${copyText(area)}\t${copyText(period)}\t${revision}\t`,
      copyJson(payload),
      this.flushTag,
    );
    this.rows++;
    return this.length >= this.sendBytes ? this.send() : undefined;
  }

  /** Sends what is buffered and waits until every row is in the table (of the transaction). */
  async end(): Promise<void> {
    if (this.length > 0) await this.send();
    await this.inFlight;
    this.inFlight = undefined;
  }

  private put(...parts: string[]): void {
    // UTF-16 code units to UTF-8: at most 3 bytes each.
    let need = this.length;
    for (const p of parts) need += p.length * 3;
    let buf = this.buffers[0]!;
    if (need > buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, buf.length * 2));
      buf.copy(grown, 0, 0, this.length);
      this.buffers[0] = buf = grown;
    }
    for (const p of parts) this.length += buf.write(p, this.length);
  }

  /** Waits for the COPY in flight, then starts one with the buffer filled meanwhile. */
  private async send(): Promise<void> {
    await this.inFlight;
    const data = this.buffers[0]!.subarray(0, this.length);
    this.buffers.reverse();
    this.length = 0;
    const copy = this.client.query(
      copyFrom('COPY kpi_change (kpi, area, period, revision, payload, flush_id) FROM STDIN'),
    );
    this.inFlight = new Promise<void>((resolve, reject) => {
      copy.on('error', reject);
      copy.on('finish', resolve);
      copy.end(data);
    });
    // Awaited by the next send or end(); this only keeps a failure from being unhandled meanwhile.
    this.inFlight.catch(() => undefined);
  }
}
