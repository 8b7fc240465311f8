#!/usr/bin/env -S node --require tsx/cjs --import tsx --disable-warning=ExperimentalWarning
// Development entry: runs the TypeScript sources in src/ directly (tsx loader), no build needed.
// oclif.manifest.json (written by `npm run build` for bin/run.js) lets oclif load only the command
// being run; it is used here only while no file under src/ is newer than it, so a command added
// or changed since the last build is never hidden or described by a stale manifest.
import {Config, Plugin, flush, handle, run} from '@oclif/core'
import {readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

function newestMtime(dir) {
  let newest = 0
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs)
  }
  return newest
}

function manifestIsFresh() {
  try {
    return statSync(join(root, 'oclif.manifest.json')).mtimeMs >= newestMtime(join(root, 'src'))
  } catch {
    return false
  }
}

process.env.NODE_ENV ??= 'development'
const plugin = new Plugin({root, isRoot: true, ignoreManifest: !manifestIsFresh()})
await plugin.load()
const config = await Config.load({root, development: true, plugins: new Map([[plugin.name, plugin]])})
await run(process.argv.slice(2), config)
  .then(() => flush())
  .catch((error) => handle(error))
