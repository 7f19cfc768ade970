/**
 * The format encoder's pure part: the configuration (as the editor saves it),
 * its checks, and one `encode()` that picks the format and returns the body
 * with its Content-Type.
 */
import { IntegrationError, type ErrorDetail } from '../errors';
import { encodeJson, JSON_CONTENT_TYPE } from './json';
import { encodeCsv, csvContentType, delimiterProblem, parseColumns, readDelimiter } from './csv';
import { encodeXml, xmlNameProblem, XML_CONTENT_TYPE } from './xml';
import { encodeForm, FORM_CONTENT_TYPE } from './form';

export { encodeJson, childPath, describe, isPlainObject, JSON_CONTENT_TYPE } from './json';
export { encodeCsv, csvContentType, delimiterProblem, parseColumns, readDelimiter } from './csv';
export { encodeXml, isXmlName, xmlNameProblem, findInvalidXmlChar, XML_CONTENT_TYPE } from './xml';
export { encodeForm, formEscape, FORM_CONTENT_TYPE } from './form';

export const FORMATS = ['json', 'csv', 'xml', 'form'] as const;
export type EncodeFormat = (typeof FORMATS)[number];

/** The node's settings, with the names and defaults of the editor. */
export interface EncoderConfig {
  format: EncodeFormat;
  pretty: boolean;
  csvHeader: boolean;
  csvDelimiter: string;
  /** "" = the keys of the first record; otherwise comma-separated column names */
  csvColumns: string;
  csvGuard: boolean;
  xmlRoot: string;
  xmlItem: string;
  xmlDeclaration: boolean;
}

export const DEFAULT_CONFIG: Readonly<EncoderConfig> = Object.freeze({
  format: 'json',
  pretty: false,
  csvHeader: true,
  csvDelimiter: ',',
  csvColumns: '',
  csvGuard: true,
  xmlRoot: 'root',
  xmlItem: 'item',
  xmlDeclaration: true,
});

export interface EncodeResult {
  format: EncodeFormat;
  body: string;
  contentType: string;
}

function bool(value: unknown, fallback: boolean): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return fallback;
}

function str(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

/**
 * Reads a saved node configuration: missing settings take their defaults,
 * "true"/"false" strings are read as booleans. The format is kept as given
 * so that checkConfig can report an unknown one.
 */
export function readConfig(raw: Record<string, unknown> = {}): EncoderConfig {
  const d = DEFAULT_CONFIG;
  return {
    format: (typeof raw.format === 'string' && raw.format !== '' ? raw.format : d.format) as EncodeFormat,
    pretty: bool(raw.pretty, d.pretty),
    csvHeader: bool(raw.csvHeader, d.csvHeader),
    csvDelimiter: str(raw.csvDelimiter, d.csvDelimiter),
    csvColumns: str(raw.csvColumns, d.csvColumns),
    csvGuard: bool(raw.csvGuard, d.csvGuard),
    xmlRoot: str(raw.xmlRoot, d.xmlRoot).trim(),
    xmlItem: str(raw.xmlItem, d.xmlItem).trim(),
    xmlDeclaration: bool(raw.xmlDeclaration, d.xmlDeclaration),
  };
}

/** Every problem with the settings the chosen format uses (empty when fine). */
export function checkConfig(config: EncoderConfig): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  if (!(FORMATS as readonly string[]).includes(config.format)) {
    problems.push({ field: 'format', reason: `"${config.format}" is not one of ${FORMATS.join(', ')}` });
    return problems;
  }
  if (config.format === 'csv') {
    const d = delimiterProblem(readDelimiter(config.csvDelimiter));
    if (d) problems.push({ field: 'csvDelimiter', reason: `the delimiter ${d}` });
    for (const reason of parseColumns(config.csvColumns).problems) problems.push({ field: 'csvColumns', reason });
  }
  if (config.format === 'xml') {
    const r = xmlNameProblem(config.xmlRoot);
    if (r) problems.push({ field: 'xmlRoot', reason: `the root element name ${JSON.stringify(config.xmlRoot)} ${r}` });
    const i = xmlNameProblem(config.xmlItem);
    if (i) problems.push({ field: 'xmlItem', reason: `the item element name ${JSON.stringify(config.xmlItem)} ${i}` });
  }
  return problems;
}

/** The error for a configuration checkConfig found problems with (code ENCODE_CONFIG). */
export function configError(problems: ErrorDetail[]): IntegrationError {
  const more = problems.length - 1;
  return new IntegrationError(
    'ENCODE_CONFIG',
    `invalid setting ${problems[0].field}: ${problems[0].reason}` + (more > 0 ? ` (and ${more} more)` : ''),
    problems,
  );
}

/**
 * Encodes `payload` in the configured format. Throws an IntegrationError:
 * ENCODE_CONFIG for bad settings, ENCODE_JSON / ENCODE_CSV / ENCODE_XML /
 * ENCODE_FORM for a payload that format cannot carry.
 */
export function encode(payload: unknown, config: EncoderConfig, root = 'payload'): EncodeResult {
  const problems = checkConfig(config);
  if (problems.length > 0) throw configError(problems);
  switch (config.format) {
    case 'csv':
      return {
        format: 'csv',
        body: encodeCsv(
          payload,
          {
            header: config.csvHeader,
            delimiter: readDelimiter(config.csvDelimiter),
            columns: parseColumns(config.csvColumns).columns,
            guard: config.csvGuard,
          },
          root,
        ),
        contentType: csvContentType(config.csvHeader),
      };
    case 'xml':
      return {
        format: 'xml',
        body: encodeXml(
          payload,
          {
            root: config.xmlRoot,
            item: config.xmlItem,
            declaration: config.xmlDeclaration,
            pretty: config.pretty,
          },
          root,
        ),
        contentType: XML_CONTENT_TYPE,
      };
    case 'form':
      return { format: 'form', body: encodeForm(payload, root), contentType: FORM_CONTENT_TYPE };
    case 'json':
    default:
      return {
        format: 'json',
        body: encodeJson(payload, { pretty: config.pretty }, root),
        contentType: JSON_CONTENT_TYPE,
      };
  }
}
