#!/usr/bin/env -S node --require tsx/cjs --import tsx --disable-warning=ExperimentalWarning
// Development entry: runs the TypeScript sources in src/ directly (tsx loader), no build needed.
import {execute} from '@oclif/core'

await execute({development: true, dir: import.meta.url})
