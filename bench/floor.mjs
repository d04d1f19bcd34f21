/**
 * The floor under (a): what any hub that honours the contract must at least do with this run's
 * data, done by bare kafkajs clients and nothing else, on the same machine and broker at the
 * same time. One worker thread reads the run's feeds from `lgsp.feeds.v1` and parses them
 * (the limit (b)'s work); another (or one per pack) publishes the very KPI events the hub
 * published in the backfill (their keys and bytes, as the bench's check read them back from
 * `lgsp.kpi.v1`) to a fresh topic of `lgsp.kpi.v1`'s spec, the way the relay does
 * (idempotent producer, every replica's acknowledgement, 2,000 events per send, requests of
 * MAX_REQUEST_BYTES). Nothing is validated, stored, aggregated or written to PostgreSQL. The
 * writers start when the reader gets its first batch; the floor is from then until all are
 * done.
 *
 * A hub's end-to-end time cannot be shorter than this with these clients on this machine, so
 * `observations / floor seconds` bounds (a) from above, and floor/b bounds a/b.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Kafka, logLevel } from 'kafkajs';

const kafkaOf = (brokers, clientId) =>
  new Kafka({ clientId, brokers: brokers.split(','), logLevel: logLevel.NOTHING });

/** Reads the feeds named in `feedIds`, JSON.parse only, as the limit (b) does. */
async function reader({ brokers, groupId, topic, starts, feedIds }) {
  const ours = new Set(feedIds);
  const kafka = kafkaOf(brokers, 'floor-reader');
  const admin = kafka.admin();
  await admin.connect();
  await admin.setOffsets({
    groupId,
    topic,
    partitions: starts.map((p) => ({ partition: p.partition, offset: String(p.offset) })),
  });
  await admin.disconnect();
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let observations = 0;
  let t0 = 0;
  await new Promise((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        if (!t0) {
          t0 = Date.now();
          parentPort.postMessage({ started: t0 });
        }
        for (const m of batch.messages) {
          const f = JSON.parse(m.value.toString());
          if (!ours.has(f.feedId)) continue;
          seen++;
          observations += f.observations.length;
        }
        if (seen >= ours.size) resolve();
      },
    });
  });
  const t1 = Date.now();
  await consumer.disconnect();
  return { t0, t1, feeds: seen, observations };
}

/**
 * Events packed for a worker thread: their keys' and values' bytes copied into a few large
 * ArrayBuffers (transferred, not cloned) with an index of [key offset, key length, value
 * offset, value length] per event.
 */
export class EventPack {
  static CHUNK = 64 << 20;
  chunks = [];
  indexes = [];
  events = 0;
  bytes = 0;
  #buf;
  #at = 0;
  #index = [];

  add(key, value) {
    const need = key.length + value.length;
    if (!this.#buf || this.#at + need > this.#buf.length) this.#next(need);
    key.copy(this.#buf, this.#at);
    value.copy(this.#buf, this.#at + key.length);
    this.#index.push(this.#at, key.length, this.#at + key.length, value.length);
    this.#at += need;
    this.events++;
    this.bytes += value.length;
  }

  #next(need) {
    this.#seal();
    this.#buf = Buffer.from(new ArrayBuffer(Math.max(EventPack.CHUNK, need)));
    this.#at = 0;
  }

  #seal() {
    if (!this.#buf) return;
    this.chunks.push(this.#buf.buffer);
    this.indexes.push(Int32Array.from(this.#index));
    this.#index = [];
  }

  /** The pack as worker data, and what to transfer. */
  seal() {
    this.#seal();
    this.#buf = undefined;
    const data = { chunks: this.chunks, indexes: this.indexes, events: this.events };
    return { data, transfer: [...this.chunks, ...this.indexes.map((i) => i.buffer)] };
  }
}

/** The messages of a sealed pack, as views of its bytes. */
function unpack({ chunks, indexes }) {
  const messages = [];
  chunks.forEach((chunk, c) => {
    const ix = indexes[c];
    for (let i = 0; i < ix.length; i += 4)
      messages.push({
        key: Buffer.from(chunk, ix[i], ix[i + 1]),
        value: Buffer.from(chunk, ix[i + 2], ix[i + 3]),
      });
  });
  return messages;
}

/** Publishes its pack of events on 'go', as the relay does. */
async function writer({ brokers, pack, target, maxRequestBytes }) {
  const events = unpack(pack);
  const bytes = events.reduce((n, e) => n + e.value.length, 0);
  const { createIdempotentProducer, sendInChunks } =
    await import('../dist/libs/kafka/src/index.js');
  const producer = createIdempotentProducer(kafkaOf(brokers, 'floor-writer'));
  await producer.connect();
  parentPort.postMessage({ loaded: events.length });
  await new Promise((resolve) => parentPort.once('message', resolve));
  const t0 = Date.now();
  /** Events per send, as the relay reads them (apps/relay/src/outbox/relay-loop.ts). */
  const BATCH = 2_000;
  for (let i = 0; i < events.length; i += BATCH)
    await sendInChunks(
      producer,
      [{ topic: target, messages: events.slice(i, i + BATCH) }],
      maxRequestBytes,
    );
  const t1 = Date.now();
  await producer.disconnect();
  return { t0, t1, events: events.length, bytes };
}

if (!isMainThread) {
  const role = workerData.role === 'reader' ? reader : writer;
  role(workerData).then(
    (done) => parentPort.postMessage({ done }),
    (e) => parentPort.postMessage({ error: e?.stack ?? String(e) }),
  );
}

/**
 * Runs the floor. `feeds`: the run's feed topic, its start offsets and feed ids; `packs`: the
 * backfill's KPI events, one EventPack per producer thread; `spec`: the topic spec the events
 * are published to a copy of (deleted afterwards).
 */
export async function measureFloor({ kafka, brokers, run, feeds, packs, spec, maxRequestBytes }) {
  const target = `lgsp.floor-${run}.v1`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ ...spec, topic: target }],
    waitForLeaders: true,
  });
  const start = (data, transferList = []) => {
    const w = new Worker(new URL(import.meta.url), { workerData: data, transferList });
    const done = new Promise((resolve, reject) => {
      w.on('message', (m) => {
        if (m.done) resolve(m.done);
        if (m.error) reject(new Error(`floor ${data.role}: ${m.error}`));
      });
      w.on('error', reject);
    });
    return { w, done, first: (key) => waitFor(w, key) };
  };
  try {
    const writes = packs.map((p) => {
      const { data, transfer } = p.seal();
      return start({ role: 'writer', brokers, pack: data, target, maxRequestBytes }, transfer);
    });
    await Promise.all(writes.map((w) => Promise.race([w.first('loaded'), w.done])));
    const read = start({
      role: 'reader',
      brokers,
      groupId: `floor-read-${run}`,
      topic: feeds.topic,
      starts: feeds.starts,
      feedIds: feeds.ids,
    });
    await Promise.race([read.first('started'), read.done]);
    for (const w of writes) w.w.postMessage('go');
    const [r, ...ps] = await Promise.all([read.done, ...writes.map((w) => w.done)]);
    await Promise.all([read, ...writes].map((x) => x.w.terminate()));
    const published = Math.max(...ps.map((p) => p.t1));
    const seconds = (Math.max(r.t1, published) - r.t0) / 1000;
    return {
      seconds,
      obsPerSecond: r.observations / seconds,
      read: { seconds: (r.t1 - r.t0) / 1000, feeds: r.feeds, observations: r.observations },
      publish: {
        writers: packs.length,
        seconds: (published - Math.min(...ps.map((p) => p.t0))) / 1000,
        events: ps.reduce((n, p) => n + p.events, 0),
        bytes: ps.reduce((n, p) => n + p.bytes, 0),
      },
    };
  } finally {
    await admin.deleteTopics({ topics: [target] }).catch(() => undefined);
    await admin.disconnect();
  }
}

function waitFor(worker, key) {
  return new Promise((resolve) => {
    const on = (m) => {
      if (m[key] !== undefined) {
        worker.off('message', on);
        resolve(m);
      }
    };
    worker.on('message', on);
  });
}
