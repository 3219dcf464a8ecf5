/**
 * Staff tables whose sensitive values are distinctive, so a leak cannot hide behind a coincidence:
 * ids are ten-digit numbers no count or sum reaches, birth and start dates have days past 12 (not
 * a month) in years no other column holds, nationalities are codes no function makes up.
 */
export interface HostileData {
  readonly personen: string;
  readonly aanstellingen: string;
  /** Every raw value the anonymisation must keep from the requester, as text. */
  readonly secrets: readonly string[];
}

export function hostileData(rows: number): HostileData {
  const personen = ['Instcode;Unieknr;Geslacht;Gebdat;Nationaliteit;BKO;SKO;Peildat'];
  const aanstellingen = ['Instcode;Unieknr;Volgnrar;Aadnstvb;Ingdatdv;Eindatdv;HOOPgeb;Functcat;WelGeenHGL;Salschal;Taakomv;Aanst_22;Peildat'];
  const secrets: string[] = [];
  const date = (year: number, i: number) => `${year}${String(1 + (i % 12)).padStart(2, '0')}${String(13 + (i % 15)).padStart(2, '0')}`;
  for (let i = 1; i <= rows; i++) {
    const id = String(4_000_000_000 + i * 104_729);
    const born = date(1950 + (i % 45), i);
    const started = date(2001 + (i % 17), i * 7);
    const nationality = `NQ${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(65 + ((i * 7) % 26))}${i}`;
    personen.push(`UVA;${id};${i % 3 === 0 ? 'V' : 'M'};${born};${nationality};${i % 2};0;20191231`);
    aanstellingen.push(`UVA;${id};1;V;${started};99991231;ECON;10940;0;${5 + (i % 12)};2000;V;20191231`);
    secrets.push(id, born, nationality, started, dashed(born), dashed(started));
  }
  return { personen: `${personen.join('\n')}\n`, aanstellingen: `${aanstellingen.join('\n')}\n`, secrets };
}

function dashed(yyyymmdd: string): string {
  return `${yyyymmdd.slice(0, 4)}-${yyyymmdd.slice(4, 6)}-${yyyymmdd.slice(6)}`;
}

/** Every leaf of a value read back from DuckDB (lists, structs, maps, dates, big integers) as text. */
export function leavesOf(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value.flatMap(leavesOf);
  if (value instanceof Date) return [value.toISOString()];
  if (typeof value === 'object') return [...Object.keys(value), ...Object.values(value as Record<string, unknown>).flatMap(leavesOf)];
  return [String(value)];
}

/** The secrets found in `texts`, each once. */
export function leaked(texts: readonly string[], secrets: readonly string[]): string[] {
  const found = new Set<string>();
  for (const text of texts) for (const secret of secrets) if (text.includes(secret)) found.add(secret);
  return [...found];
}
