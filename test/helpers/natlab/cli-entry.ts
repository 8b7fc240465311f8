// Dev entry for the WebRTC/NAT-lab tests: like bin/dev.js (TypeScript sources through tsx), but it
// ignores a stale committed oclif.manifest.json, which would otherwise hide commands that exist in
// src/ but not in the manifest (the manifest is regenerated only by `npm run build`).
import {flush, handle, Config, Plugin, run} from '@oclif/core'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('../../..', import.meta.url))
process.env.NODE_ENV = 'development'
const plugin = new Plugin({root, isRoot: true, ignoreManifest: true})
await plugin.load()
const config = await Config.load({root, plugins: new Map([[plugin.name, plugin]])} as never)
await run(process.argv.slice(2), config)
  .then(() => flush())
  .catch(async (error: unknown) => handle(error as Error))
