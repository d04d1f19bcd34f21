import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Writable } from 'node:stream';

/** The part of a pg client a COPY needs. */
export type CopyClient = Pick<PoolClient, 'query'>;

/** Bytes of encoded rows per write to the COPY: few writes, and little held by the writer. */
const SEND_BYTES = 1 << 20;
const INITIAL_BYTES = 64 << 10;
/** A sent buffer this large is free once its write is reported done (see `send`). */
const REUSABLE_BYTES = 256 << 10;

/** COPY's binary format: signature, flags, header extension length; and the trailer. */
const COPY_HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
const COPY_TRAILER = 2;
/**
 * Fields per row; their length words; id int8; revision int4; flush_id int8; rebased bool;
 * official bool.
 */
const FIELDS = 9;
const FIXED_BYTES = 2 + FIELDS * 4 + 8 + 4 + 8 + 1 + 1;
const COLUMNS = 'id, kpi, area, period, revision, payload, flush_id, rebased, official';

export interface ChangeLogWriterOptions {
  /** The flush (batch window) the rows belong to. */
  readonly flushId: number;
  /**
   * The change log's last id, read under the change-log lock (`KpiStore.lastChangeId`;
   * `KpiStore.openChangeLog` does both): the rows take the ids after it, so that the COPY's
   * rows are a known, gapless range.
   */
  readonly lastId: number;
  /** Bytes per write to the COPY. */
  readonly sendBytes?: number;
}

/**
 * Appends revisions to the change log (`kpi_change`) with COPY in its binary format: every
 * field goes as its length and its bytes, so neither side escapes or scans the text (a KPI
 * event is about 1 kB of JSON; PostgreSQL takes binary rows faster than text:
 * docs/performance.md, "Measurements behind the code"). Each row is encoded into a buffer as it is added, so an event's JSON
 * lives only until it is encoded (a flush writes millions in a backfill; strings kept until a
 * statement returns are what the garbage collector copies and promotes).
 *
 * One COPY per writer, on the caller's transaction, opened with the first full buffer: each
 * buffer of about 1 MB is written to the socket as it fills, while the next fills, so that
 * PostgreSQL takes in rows while the caller builds more. (A COPY per buffer waited for its
 * CopyInResponse, which the event loop only reads once the caller stops building: PostgreSQL
 * sat idle while the next buffer filled, and the caller then waited for it to catch up.)
 *
 * Until `end()` returns, the client is the COPY's: a query sent on it meanwhile would wait
 * behind the COPY, and the COPY for it.
 *
 * The writer numbers the rows itself, from the last id (the change-log lock makes it the
 * only writer until its transaction ends): no `nextval` per row, and the flush's rows are one
 * gapless id range.
 */
export class ChangeLogWriter {
  /**
   * Two buffers: one being filled, the other last sent. They start small and grow to what a
   * send holds: a writer lives for one flush, often of a handful of events.
   */
  private buffers = [Buffer.allocUnsafeSlow(INITIAL_BYTES), Buffer.allocUnsafeSlow(INITIAL_BYTES)];
  /** Bytes of the buffer last sent (none yet: it is free). */
  private sentBytes = Infinity;
  private length = 0;
  /** The COPY, once the first buffer is sent; its end (all rows in the table) or its error. */
  private copy?: { stream: Writable; done: Promise<void>; error?: Error };
  /** The last buffer's write: the next waits for it, so at most two are held at a time. */
  private writing?: Promise<void>;
  private readonly flushHi: number;
  private readonly flushLo: number;
  private nextId: number;
  private readonly sendBytes: number;
  rows = 0;

  constructor(
    private readonly client: CopyClient,
    options: ChangeLogWriterOptions,
  ) {
    this.flushHi = Math.floor(options.flushId / 2 ** 32);
    this.flushLo = options.flushId >>> 0;
    this.nextId = options.lastId + 1;
    this.sendBytes = options.sendBytes ?? SEND_BYTES;
  }

  /** The last id written (the last id before the writer's, while none is). */
  get lastId(): number {
    return this.nextId - 1;
  }

  /**
   * Adds one revision; `payload` is its event as compact JSON (`serializeKpiEvent`). Once the
   * buffer is full this sends it and returns the wait for the buffer sent before it to be on
   * the socket: await it before the next add. `rebased`: a 2025 province's re-based history
   * (contract v1.1); `official`: the event's figure is an approved one (issue 27).
   */
  add(
    kpi: string,
    area: string,
    period: string,
    revision: number,
    payload: string,
    rebased = false,
    official = false,
  ): Promise<void> | undefined {
    // UTF-16 code units to UTF-8: at most 3 bytes each.
    const most =
      FIXED_BYTES + (kpi.length + area.length + period.length + payload.length) * 3 + COPY_TRAILER;
    // The COPY's header goes before its first row.
    const first = this.rows === 0;
    const buf = this.reserve(first ? COPY_HEADER.length + most : most);
    let at = this.length;
    if (first) at += COPY_HEADER.copy(buf, at);
    const id = this.nextId++;
    at = buf.writeInt16BE(FIELDS, at);
    at = buf.writeInt32BE(8, at);
    at = buf.writeUInt32BE(Math.floor(id / 2 ** 32), at);
    at = buf.writeUInt32BE(id >>> 0, at);
    at = this.text(buf, at, kpi);
    at = this.text(buf, at, area);
    at = this.text(buf, at, period);
    at = buf.writeInt32BE(4, at);
    at = buf.writeInt32BE(revision, at);
    at = this.text(buf, at, payload);
    at = buf.writeInt32BE(8, at);
    at = buf.writeUInt32BE(this.flushHi, at);
    at = buf.writeUInt32BE(this.flushLo, at);
    at = buf.writeInt32BE(1, at);
    at = buf.writeUInt8(rebased ? 1 : 0, at);
    at = buf.writeInt32BE(1, at);
    at = buf.writeUInt8(official ? 1 : 0, at);
    this.length = at;
    this.rows++;
    return this.length >= this.sendBytes ? this.send(false) : undefined;
  }

  /**
   * Sends what is buffered, ends the COPY and waits until every row is in the table (of the
   * transaction); moves the id sequence past the rows, for anything that inserts with the
   * column's default.
   */
  async end(): Promise<void> {
    if (this.rows === 0) return;
    await this.send(true);
    const copy = this.copy!;
    copy.stream.end();
    await copy.done;
    await this.client.query(`SELECT setval('kpi_change_id_seq', $1)`, [this.lastId]);
  }

  /** A text field: its UTF-8 bytes after their count. */
  private text(buf: Buffer, at: number, s: string): number {
    const n = buf.write(s, at + 4);
    buf.writeInt32BE(n, at);
    return at + 4 + n;
  }

  /**
   * The buffer being filled, grown to hold `bytes` more: by doubling, but never past a send's
   * bytes and the row that crosses them (a 1 MB buffer doubled for its last row would hold 2).
   */
  private reserve(bytes: number): Buffer {
    const buf = this.buffers[0]!;
    const need = this.length + bytes;
    if (need <= buf.length) return buf;
    const grown = Buffer.allocUnsafeSlow(
      Math.max(need, Math.min(buf.length * 2, this.sendBytes + bytes)),
    );
    buf.copy(grown, 0, 0, this.length);
    return (this.buffers[0] = grown);
  }

  /**
   * Waits until the buffer sent before is taken by the socket, then writes the one filled
   * meanwhile to the COPY, opening it the first time, and fills the other next; `last` ends
   * the rows with COPY's trailer.
   */
  private async send(last: boolean): Promise<void> {
    // A write fails once the COPY has: report why the COPY failed.
    await this.writing?.catch((e: unknown) => {
      throw this.copy?.error ?? e;
    });
    const copy = (this.copy ??= this.open());
    if (copy.error) throw copy.error;
    const [buf, sent] = this.buffers as [Buffer<ArrayBuffer>, Buffer<ArrayBuffer>];
    const data = buf.subarray(0, last ? buf.writeInt16BE(-1, this.length) : this.length);
    // The buffer sent before is filled again only if the socket holds none of it: its write
    // was reported done once all of it was handed to the kernel, which a socket guarantees for
    // a write larger than its high-water mark (16 kB in Node 20, 64 kB in 22), and not for a
    // smaller one. (A new buffer per send is mapped, faulted in and unmapped under the
    // aggregator's mmap threshold, ADR 0010: CPU a backfill notices.)
    const reusable = this.sentBytes >= REUSABLE_BYTES;
    this.buffers = [reusable ? sent : Buffer.allocUnsafeSlow(sent.length), buf];
    this.sentBytes = data.length;
    this.length = 0;
    this.writing = new Promise<void>((resolve, reject) =>
      copy.stream.write(data, (e) => (e ? reject(e) : resolve())),
    );
    // Awaited by the next send; this only keeps a failure from being unhandled meanwhile (the
    // COPY's own promise reports it).
    this.writing.catch(() => undefined);
  }

  private open(): NonNullable<ChangeLogWriter['copy']> {
    const stream = this.client.query(
      copyFrom(`COPY kpi_change (${COLUMNS}) FROM STDIN (FORMAT binary)`),
    ) as unknown as Writable;
    const copy: NonNullable<ChangeLogWriter['copy']> = {
      stream,
      done: new Promise<void>((resolve, reject) => {
        stream.on('error', (e: Error) => reject((copy.error ??= e)));
        stream.on('finish', resolve);
      }),
    };
    // Awaited by end(); a write after a failure throws the failure.
    copy.done.catch(() => undefined);
    return copy;
  }
}
