/**
 * Node sets: go-ethereum's `nodes.json` (cmd/devp2p/nodeset.go), the pipeline file between
 * `crawl`, `px`, `dns-tree build` and geth's own `devp2p` tools. Also reads the NDJSON that
 * `crawl --ndjson` streams and plain lists of ENRs, so every producer feeds every consumer.
 *
 * Files: types.ts (shapes), parse.ts (readers), write.ts (geth's text; `-` writes to a stream the
 * caller passes, never process.stdout), filter.ts (filters), entries.ts (entries from records).
 */
export * from './types.js'
export {readNodeSetFile, readNodeSetDetailed, parseNodeSetText} from './parse.js'
export {formatNodeSet, writeNodeSetFile, type WriteNodeSetOptions} from './write.js'
export {nodeSetFromRecords, entryFromRecord, nodeSetRecords, formatGoTime} from './entries.js'
export {filterNodeSet, filterNodeSetDetailed} from './filter.js'
