// Bundles the browser page of `webrtc listen --page` (src/page/webrtc.ts) into dist/page/webrtc.js
// with esbuild: one self-contained script the CLI serves itself, nothing fetched at run time.
import {build} from 'esbuild'

await build({
  entryPoints: ['src/page/webrtc.ts'],
  bundle: true,
  format: 'iife',
  target: 'es2020',
  outfile: 'dist/page/webrtc.js',
  logLevel: 'warning',
})
