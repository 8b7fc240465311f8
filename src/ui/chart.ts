/**
 * Terminal line charts (asciichart) for the discovery curve, drawn only for a terminal: pipes and
 * files get the numbers, not pictures.
 */
import asciichart from 'asciichart'

import type {CurvePoint} from '../lib/discv5/analysis.js'

/** Resamples a series to `width` columns (asciichart draws one column per value). */
function resample(values: readonly number[], width: number): number[] {
  if (values.length <= width) return [...values]
  return Array.from({length: width}, (_, i) => values[Math.round((i * (values.length - 1)) / (width - 1))]!)
}

/** Discovered and responsive nodes against requests sent, or undefined when there is nothing to draw. */
export function discoveryCurveChart(curve: readonly CurvePoint[], stream: NodeJS.WriteStream = process.stdout): string | undefined {
  if (!stream.isTTY || curve.length < 2) return undefined
  const width = Math.max(20, Math.min(100, (stream.columns ?? 80) - 14))
  const discovered = resample(curve.map((p) => p.discovered), width)
  const responsive = resample(curve.map((p) => p.responsive), width)
  const plot = asciichart.plot([discovered, responsive], {height: 10, colors: [asciichart.blue, asciichart.green], format: (x: number) => String(Math.round(x)).padStart(8)})
  const last = curve.at(-1)!
  return `discovery curve (blue: discovered, green: responsive; x: 0 → ${last.requests} requests, ${(last.ms / 1000).toFixed(1)} s)\n${plot}`
}
