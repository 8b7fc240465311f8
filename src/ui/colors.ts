import {Chalk, type ChalkInstance} from 'chalk'

/** Colour is on only for a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function colorsFor(stream: NodeJS.WriteStream = process.stdout): ChalkInstance {
  const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== ''
  const forced = process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0'
  const level = noColor ? 0 : forced || stream.isTTY ? 1 : 0
  return new Chalk({level})
}

/** Live (ink) views only on an interactive stderr outside CI. */
export function liveViewAllowed(): boolean {
  return Boolean(process.stderr.isTTY) && !process.env.CI
}
