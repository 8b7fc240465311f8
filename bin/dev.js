#!/usr/bin/env -S node --require tsx/cjs --import tsx --disable-warning=ExperimentalWarning
// Development entry: runs the TypeScript sources in src/ directly (tsx loader), no build needed.
// It ignores oclif.manifest.json (written by `npm run build` for bin/run.js), so a command added
// since the last build is never hidden by a stale manifest.
import {Config, Plugin, flush, handle, run} from '@oclif/core'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
process.env.NODE_ENV ??= 'development'
const plugin = new Plugin({root, isRoot: true, ignoreManifest: true})
await plugin.load()
const config = await Config.load({root, development: true, plugins: new Map([[plugin.name, plugin]])})
await run(process.argv.slice(2), config)
  .then(() => flush())
  .catch((error) => handle(error))
