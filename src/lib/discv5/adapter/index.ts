/**
 * The one place where the discv5 crawler and node factory change @chainsafe/discv5 11.0.0: the
 * rest of src/lib/discv5 uses the library's public API, and what it needs beyond that comes from
 * here, as it does for the testnet's misbehaving nodes (replaceFindNodeHandler) and doctor's
 * discv5 ping (which checks the adapter before relying on the patched protocol id).
 *
 * Two mechanisms remain, each for what the other cannot do:
 *
 *  1. The install-time patch, patches/@chainsafe+discv5+11.0.0.patch (applied by patch-package
 *     from the `postinstall` script). It changes code inside the library's module-level functions,
 *     which nothing outside the module can reach (ES module bindings cannot be reassigned):
 *      - the 6-byte protocol id of the packet header ("d5waku" for Waku, 33/WAKU2-DISCV5) in
 *        createHeader, the packet factories, decodeHeader, the session service and the UDP
 *        transport. It cannot be rewritten on the way out: the header is part of the AES-GCM
 *        associated data, fixed when the packet is created;
 *      - the masking and session keys kept as node:crypto KeyObjects, made once per key (node
 *        re-validates a raw key on every cipher, ~13 µs);
 *      - the export of the library's own session-crypto hook (get/setDiscv5Crypto), which 11.0.0
 *        defines in lib/util/crypto.js but does not export; crypto-backend.ts uses it.
 *
 *  2. Run-time replacement of private instance members (internals.ts, the only file naming them),
 *     for behaviour chosen per node and tied to live crawler state, in typed code of this repo:
 *     the request timer (timeouts.ts: loop-lag tolerance, a shorter wait for a missing WHOAREYOU,
 *     callbacks into the crawler's pacer), the address family of one FINDNODE, a routing table
 *     the library leaves alone, and the transport's sockets and receive hook (node.ts's
 *     GuardedTransport). Moving these into the patch would mean adding four new hooks to the
 *     library in untyped JavaScript, none of which tsc could check.
 *
 * check.ts ties both down at start-up (startNode and installDiscv5Crypto call it): the installed
 * version is 11.0.0, the patch is applied, and each private member exists; otherwise a
 * ConfigError DISCV5_ADAPTER_MISMATCH names the pinned version and what is missing.
 */
export {
  DISCV5_ADAPTER_MISMATCH,
  PINNED_DISCV5_VERSION,
  assertDiscv5Adapter,
  checkDiscv5Shape,
  discv5AdapterProblems,
  installedDiscv5Shape,
  installedDiscv5Version,
  type Discv5Shape,
} from './check.js'
export {discv5CryptoBackend, enrCacheStats, installDiscv5Crypto, installEnrVerifyCache} from './crypto-backend.js'
export {freezeRoutingTable, observeIncoming, replaceFindNodeHandler, sendFindNodeVia, socketSlot, type FindNodeResponder, type SocketSlot} from './internals.js'
export {isRequestFailure, isRequestTimeout, makeTimeoutsLagTolerant, requestErrorType, type RequestTimerOptions, type TimeoutPhase} from './timeouts.js'
