/**
 * The discv5 crawl, on @chainsafe/discv5 11.0.0's `sendFindNode`: the entry point (a crawl as a
 * stream of events, or run to its result). The work is done by crawl-engine.ts and its parts;
 * beside them: crawl-types.ts (public shapes), crawl-settings.ts (defaults and validation),
 * crawl-entry.ts (per-node state and what strategies may ask), pacer.ts (handshake pacing),
 * strategies/ (census, exhaustive, random walk), crawl-report.ts (the summary's arithmetic) and
 * adapter/ (what the crawl needs of the library beyond its public API).
 *
 * What the crawl does about the library's measured behaviour:
 *  - socket receive buffer raised to 4 MiB (the default 20 KiB drops replies under load);
 *  - a verified-record cache (every ENR in every NODES reply is signature-checked);
 *  - new handshakes capped and ramped (each costs ~4 ms of CPU; a burst times out live nodes);
 *  - a 2.5 s request timeout (1 s marks live nodes dead) once a node has answered the handshake
 *    challenge, but a first contact with no WHOAREYOU at all gives up after an adaptive ~1 s
 *    (answering a random packet costs the remote no crypto); one retry, with the full timeout, so
 *    a dead node costs ~3.5 s in two non-blocking attempts and a live one is never judged on the
 *    short wait alone;
 *  - one request per node in flight, per-node pacing;
 *  - an own ENR without IP/port (responders then accept the session as verified);
 *  - a session cache sized for the whole network, and the library's rate limiter left off
 *    (it bans our own responders in 11.0.0);
 *  - FINDNODE distance 0 for liveness and freshness (a newer seq replaces the record);
 *  - a FINDNODE reply of 15 records means a full bucket (the client keeps 5 packets of 3).
 *
 * Every destination passes the admission policy (src/lib/net) before a packet is sent, and the
 * transport re-checks each datagram.
 */
import {CrawlEngine} from './crawl-engine.js'
import type {CrawlEvent, CrawlOptions, CrawlResult} from './crawl-types.js'
import {EventQueue} from './event-queue.js'

export * from './crawl-types.js'
export {assertReachedSomething, tallyNodes} from './crawl-report.js'

/** Runs a crawl as a stream of events; the last one is `done` with the full result. */
export async function* crawl(options: CrawlOptions): AsyncGenerator<CrawlEvent, void, undefined> {
  const queue = new EventQueue<CrawlEvent>()
  const engine = new CrawlEngine(options, (e) => queue.push(e))
  const run = engine.run().then(
    () => queue.close(),
    (error: unknown) => {
      queue.close()
      throw error
    },
  )
  run.catch(() => {})
  try {
    for await (const event of queue.drain()) yield event
  } finally {
    engine.abort()
  }
  await run
}

/** Runs a crawl to the end and returns its result (events go to `onEvent`). */
export async function runCrawl(options: CrawlOptions, onEvent?: (event: CrawlEvent) => void): Promise<CrawlResult> {
  let result: CrawlResult | undefined
  for await (const event of crawl(options)) {
    onEvent?.(event)
    if (event.type === 'done') result = event.result
  }
  return result!
}
