import {codeAliases, upperSnakeCode} from '../errors.js'

/**
 * One problem found in a record: what inspectEnr reports as a failure and lintEnr as a finding.
 * Finding codes are their own namespace, dotted and named after the field (`signature.invalid`,
 * `waku2.missing`); error codes are UPPER_SNAKE.
 */
export interface LintFinding {
  code: string
  field: string
  severity: 'error' | 'warning' | 'info'
  message: string
}

/** The error code parseEnr throws for a failure finding: `signature.invalid` → SIGNATURE_INVALID (whose alias is the finding code). */
export function findingErrorCode(findingCode: string): string {
  return upperSnakeCode(findingCode)
}

/** The finding code lint reports for an input that does not parse: the error code's dotted alias (ENR_BASE64_PADDING → `enr.base64-padding`). */
export function errorFindingCode(errorCode: string): string {
  return codeAliases(errorCode)[0] ?? errorCode
}
