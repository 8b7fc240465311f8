import {BadInputError} from '../lib/errors.js'
import type {TestnetOptions} from '../lib/testnet/index.js'

/** A command's flag for each testnet option whose value the library checks. */
export type TestnetFlagNames = Partial<Record<keyof TestnetOptions, string>>

/**
 * The library's BAD_TESTNET_OPTION error said in the calling command's flags (`testnet --dead`,
 * `crawl --testnet-dead`): the library names options, each command knows its own flags.
 */
export function testnetErrorInFlagTerms(error: unknown, flagOf: TestnetFlagNames): unknown {
  if (!(error instanceof BadInputError) || error.code !== 'BAD_TESTNET_OPTION' || !Array.isArray(error.details?.options)) return error
  const {options, constraint, value} = error.details as {options: (keyof TestnetOptions)[]; constraint: string; value?: string}
  const flags = options.map((o) => flagOf[o] ?? o).join(' plus ')
  return new BadInputError(error.code, `${flags} ${constraint}${value === undefined ? '' : `, got ${value}`}`, {cause: error, details: error.details})
}
