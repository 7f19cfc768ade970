/**
 * CSV encoding (RFC 4180) with csv-stringify: CRLF between records, fields
 * quoted when they hold the delimiter, a quote, CR or LF, quotes doubled, and
 * a guard against formula injection in spreadsheets.
 */
import { stringify } from 'csv-stringify/sync';
import type { ErrorDetail } from '../errors';
import { childPath, describe, isPlainObject, problemsError, MAX_DETAILS } from './json';

export interface CsvOptions {
  /** write the column names as the first row */
  header: boolean;
  /** one character; not a quote, CR or LF */
  delimiter: string;
  /** fixed column order; empty: the keys of the first record, in order */
  columns: string[];
  /**
   * prefix a string cell starting with = + - @ tab or CR (or their full-width
   * forms) with a single quote, so spreadsheets do not run it as a formula
   */
  guard: boolean;
}

export function csvContentType(header: boolean): string {
  return `text/csv; charset=utf-8; header=${header ? 'present' : 'absent'}`;
}

/**
 * The delimiter as written in the configuration: one character, or the two
 * characters `\t` for a tab (a tab is hard to type into a text field).
 */
export function readDelimiter(text: string): string {
  return text === '\\t' ? '\t' : text;
}

/** Why a delimiter cannot be used, or undefined when it can. */
export function delimiterProblem(delimiter: string): string | undefined {
  if ([...delimiter].length !== 1) return 'must be exactly one character';
  if (delimiter === '"') return 'cannot be the quote character "';
  if (delimiter === '\r' || delimiter === '\n') return 'cannot be a line break (CR or LF)';
  return undefined;
}

/**
 * Reads the "columns" setting: comma-separated names, blanks around them
 * ignored. An empty setting gives no columns (take them from the data).
 */
export function parseColumns(text: string): { columns: string[]; problems: string[] } {
  const problems: string[] = [];
  if (text.trim() === '') return { columns: [], problems };
  const columns = text.split(',').map((c) => c.trim());
  const seen = new Set<string>();
  columns.forEach((name, i) => {
    if (name === '') problems.push(`column ${i + 1} has no name (two commas in a row, or a comma at the start or end)`);
    else if (seen.has(name)) problems.push(`column "${name}" is listed twice`);
    seen.add(name);
  });
  return { columns, problems };
}

function cellProblem(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
      return undefined;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'is an invalid Date' : undefined;
  if (Array.isArray(value)) return 'holds an array';
  if (typeof value === 'object')
    return `holds ${describe(value) === 'an object' ? 'a nested object' : describe(value)}`;
  return `holds ${describe(value)}`;
}

const CELL_KINDS = 'a CSV cell must be text, a number, a boolean, a date or empty';

/**
 * Encodes one record (an object) or an array of records. Throws an
 * IntegrationError (code ENCODE_CSV) listing every record that is not an
 * object and every cell that holds a nested object or array.
 */
export function encodeCsv(payload: unknown, options: CsvOptions, root = 'payload'): string {
  let records: Array<{ value: unknown; path: string }>;
  if (Array.isArray(payload)) records = payload.map((value, i) => ({ value, path: childPath(root, i) }));
  else if (isPlainObject(payload)) records = [{ value: payload, path: root }];
  else {
    throw problemsError(
      'ENCODE_CSV',
      [{ field: root, reason: `is ${describe(payload)}; CSV needs an object (one record) or an array of objects` }],
      (d) => `${d.field} ${d.reason}`,
    );
  }

  const problems: ErrorDetail[] = [];
  const first = records.find((r) => isPlainObject(r.value));
  const columns = options.columns.length > 0 ? options.columns : first ? Object.keys(first.value as object) : [];

  const rows: unknown[][] = [];
  if (options.header && columns.length > 0) rows.push(columns.slice());
  records.forEach((r, i) => {
    if (!isPlainObject(r.value)) {
      if (problems.length < MAX_DETAILS) {
        problems.push({
          field: r.path,
          rule: `record ${i}`,
          reason: `record ${i} is ${describe(r.value)}; each record must be an object`,
        });
      }
      return;
    }
    const record = r.value;
    const row = columns.map((column) => {
      const value = Object.prototype.hasOwnProperty.call(record, column) ? record[column] : undefined;
      const problem = cellProblem(value);
      if (problem && problems.length < MAX_DETAILS) {
        problems.push({
          field: childPath(r.path, column),
          rule: `record ${i}`,
          reason: `record ${i}, column "${column}" ${problem}; ${CELL_KINDS}`,
        });
      }
      return value;
    });
    rows.push(row);
  });

  if (problems.length > 0) throw problemsError('ENCODE_CSV', problems, (d) => d.reason);
  if (rows.length === 0) return '';

  return stringify(rows, {
    delimiter: options.delimiter,
    quote: '"',
    escape: '"',
    record_delimiter: '\r\n',
    // with an explicit record delimiter csv-stringify only quotes fields
    // holding the full CRLF unless told; RFC 4180 wants any CR or LF quoted
    quote_record_delimiter: true,
    eof: true,
    header: false,
    escape_formulas: options.guard,
    cast: {
      boolean: (v: boolean) => (v ? 'true' : 'false'),
      date: (v: Date) => v.toISOString(),
    },
  });
}
