/**
 * `dns-tree publish`: makes a zone hold exactly one signed tree, safely. Every step comes from
 * diff(desired, actual), so a rerun after any failure completes the job and a second run changes
 * nothing. Order: new entries first, then the root switch (confirmed live), then stale entries
 * deleted. Only names that belong to the tree are ever touched: the tree's own domain (and there
 * only the `enrtree-root:` value) and one-label hash names directly below it holding tree
 * entries — never a sibling such as `othernodes.example.org` (geth's Cloudflare deployer
 * matches by bare suffix).
 *
 * Files: types.ts (records, change set, report, the PublishTarget interface), changes.ts (the pure
 * diff), publish.ts (publishTree), one file per target, targets.ts (picking one from options).
 */
export * from './types.js'
export * from './changes.js'
export * from './publish.js'
export * from './zonefile.js'
export * from './rfc2136.js'
export * from './cloudflare.js'
export * from './route53.js'
export * from './targets.js'
