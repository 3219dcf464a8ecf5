/** A string literal of DuckDB SQL holding `value`, whatever it contains. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A quoted DuckDB identifier naming `name`, whatever it contains. */
export function sqlIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
