/** One problem found in a record: what inspectEnr reports as a failure and lintEnr as a finding. */
export interface LintFinding {
  code: string
  field: string
  severity: 'error' | 'warning' | 'info'
  message: string
}
