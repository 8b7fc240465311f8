/** The name of a numeric code in a `{NAME: code}` table (protocol status and result codes), undefined when unknown. */
export function codeName<T extends Record<string, number>>(table: T, code: number): Extract<keyof T, string> | undefined {
  return (Object.keys(table) as Array<Extract<keyof T, string>>).find((k) => table[k] === code)
}
