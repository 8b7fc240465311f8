// Public entry of the waku-disc library: each area re-exports its own API.
export * from './errors.js'
export * from './input/lines.js'
export * from './net/index.js'
export * from './enr/index.js'
export * from './keys/index.js'
export * from './nodeset/index.js'
export * from './dns/index.js'
