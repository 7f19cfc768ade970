/**
 * XML encoding with the xml2js Builder. Everything is checked before the
 * builder runs (element and attribute names, characters XML 1.0 forbids,
 * arrays inside arrays, cycles), because what xml2js does with such input
 * varies from silently wrong output to an exception without a path.
 */
import type * as Xml2js from 'xml2js';
import type { ErrorDetail } from '../errors';
import { childPath, describe, isPlainObject, problemsError, MAX_DETAILS } from './json';

let xml2jsModule: typeof Xml2js | undefined;
/** xml2js is loaded on first use: a flow without XML never pays its start time. */
function xml2js(): typeof Xml2js {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  xml2jsModule ??= require('xml2js') as typeof Xml2js;
  return xml2jsModule;
}

/**
 * One xml2js Builder per (declaration, pretty) pair, made on first use: a
 * Builder holds only its options (buildObject starts a new document each
 * call), and making one per message cost more than the rendering.
 */
const builders = new Map<string, InstanceType<typeof Xml2js.Builder>>();
function builderFor(declaration: boolean, pretty: boolean): InstanceType<typeof Xml2js.Builder> {
  const key = `${declaration ? 'd' : '-'}${pretty ? 'p' : '-'}`;
  let builder = builders.get(key);
  if (!builder) {
    builder = new (xml2js().Builder)({
      // a one-key object with the default rootName makes xml2js use that key as
      // the root element; wrapping in { [root]: … } always gives options.root
      xmldec: { version: '1.0', encoding: 'UTF-8' },
      headless: !declaration,
      attrkey: ATTR_KEY,
      charkey: TEXT_KEY,
      renderOpts: pretty ? { pretty: true, indent: '  ', newline: '\n' } : { pretty: false },
    });
    builders.set(key, builder);
  }
  return builder;
}

export const XML_CONTENT_TYPE = 'application/xml; charset=utf-8';

export interface XmlOptions {
  /** name of the root element */
  root: string;
  /** element name for each entry when the payload itself is an array */
  item: string;
  /** write `<?xml version="1.0" encoding="UTF-8"?>` first */
  declaration: boolean;
  /** indent with two spaces and line breaks */
  pretty: boolean;
}

/** xml2js conventions: attributes under `$`, element text under `_`. */
/** the deepest nesting of objects written as elements (deeper payloads are refused, not overflowing the stack) */
export const MAX_XML_NESTING = 200;

export const ATTR_KEY = '$';
export const TEXT_KEY = '_';

// XML 1.0 (Fifth Edition) productions NameStartChar and NameChar.
const NAME_START =
  ':A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D' +
  '\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NAME_CHAR = NAME_START + '\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040';
const XML_NAME = new RegExp(`^[${NAME_START}][${NAME_CHAR}]*$`, 'u');

// XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
// With the u flag a lone surrogate is a code point of its own, so it matches too.
const INVALID_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** True when `name` is a valid XML 1.0 element or attribute name. */
export function isXmlName(name: string): boolean {
  return XML_NAME.test(name);
}

/** Why `name` is not a valid XML name (for messages), or undefined. */
export function xmlNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (isXmlName(name)) return undefined;
  const first = [...name][0];
  if (!new RegExp(`^[${NAME_START}]`, 'u').test(first)) {
    return `cannot start with ${JSON.stringify(first)} (a name starts with a letter, "_" or ":")`;
  }
  const bad = [...name].find((c) => !new RegExp(`^[${NAME_CHAR}]$`, 'u').test(c)) ?? '';
  return `contains ${bad === ' ' ? 'a space' : JSON.stringify(bad)}, which an XML name cannot contain`;
}

function hex(codePoint: number): string {
  return 'U+' + codePoint.toString(16).toUpperCase().padStart(4, '0');
}

/** The first character XML 1.0 forbids in `text`, with its position, or undefined. */
export function findInvalidXmlChar(text: string): { index: number; codePoint: string } | undefined {
  const m = INVALID_CHAR.exec(text);
  if (!m) return undefined;
  const cp = m[0].codePointAt(0) as number;
  const lone = cp >= 0xd800 && cp <= 0xdfff;
  return { index: m.index, codePoint: hex(cp) + (lone ? ' (a lone surrogate)' : '') };
}

type Tree = string | Tree[] | { [key: string]: Tree | Record<string, string> };

/**
 * Builds a copy the builder can render exactly as intended: scalars as
 * strings (null → empty element), Dates as ISO strings, undefined keys left
 * out; and lists every problem found on the way.
 */
function normalise(payload: unknown, root: string, problems: ErrorDetail[]): Tree {
  const ancestors: object[] = [];
  const problem = (field: string, reason: string): void => {
    if (problems.length < MAX_DETAILS) problems.push({ field, reason });
  };

  const text = (value: unknown, path: string): string | undefined => {
    if (value === null || value === undefined) return '';
    let s: string;
    switch (typeof value) {
      case 'string':
        s = value;
        break;
      case 'number':
      case 'boolean':
      case 'bigint':
        s = String(value);
        break;
      default:
        if (value instanceof Date) {
          if (Number.isNaN(value.getTime())) {
            problem(path, 'is an invalid Date');
            return undefined;
          }
          return value.toISOString();
        }
        return undefined;
    }
    const bad = findInvalidXmlChar(s);
    if (bad) {
      problem(path, `contains ${bad.codePoint} at position ${bad.index}, a character not allowed in XML 1.0`);
      return undefined;
    }
    return s;
  };

  const isScalar = (v: unknown): boolean =>
    v === null || v === undefined || ['string', 'number', 'boolean', 'bigint'].includes(typeof v) || v instanceof Date;

  const visit = (value: unknown, path: string): Tree => {
    if (isScalar(value)) return text(value, path) ?? '';
    if (Array.isArray(value)) {
      // only reached for an array that is an object's value; see the object branch
      return value.map((entry, i) => {
        const p = childPath(path, i);
        if (Array.isArray(entry)) {
          problem(p, 'is an array directly inside an array, which has no element name in XML (wrap it in an object)');
          return '';
        }
        return visit(entry, p);
      });
    }
    if (!isPlainObject(value)) {
      problem(path, `is ${describe(value)}, which cannot be written as XML`);
      return '';
    }
    if (ancestors.includes(value)) {
      problem(path, 'is a circular reference (it contains itself)');
      return '';
    }
    if (ancestors.length >= MAX_XML_NESTING) {
      problem(path, `nests more than ${MAX_XML_NESTING} levels deep`);
      return '';
    }
    ancestors.push(value);
    const out: { [key: string]: Tree | Record<string, string> } = {};
    for (const key of Object.keys(value)) {
      const child = value[key];
      const p = childPath(path, key);
      if (key === ATTR_KEY) {
        if (!isPlainObject(child)) {
          problem(p, `is ${describe(child)}; attributes go in an object of name: value pairs`);
          continue;
        }
        const attrs: Record<string, string> = {};
        for (const name of Object.keys(child)) {
          const ap = childPath(p, name);
          const nameProblem = xmlNameProblem(name);
          if (nameProblem) {
            problem(ap, `is not a valid XML attribute name: ${JSON.stringify(name)} ${nameProblem}`);
            continue;
          }
          const av = child[name];
          if (av === undefined) continue;
          if (!isScalar(av)) {
            problem(ap, `is ${describe(av)}; an attribute value must be text, a number, a boolean or a date`);
            continue;
          }
          const s = text(av, ap);
          if (s !== undefined) attrs[name] = s;
        }
        out[ATTR_KEY] = attrs;
      } else if (key === TEXT_KEY) {
        if (child === undefined) continue;
        if (!isScalar(child)) {
          problem(p, `is ${describe(child)}; element text must be text, a number, a boolean or a date`);
          continue;
        }
        out[TEXT_KEY] = text(child, p) ?? '';
      } else {
        const nameProblem = xmlNameProblem(key);
        if (nameProblem) {
          problem(p, `is not a valid XML element name: ${JSON.stringify(key)} ${nameProblem}`);
          continue;
        }
        if (child === undefined) continue;
        out[key] = visit(child, p);
      }
    }
    ancestors.pop();
    return out;
  };

  // a top-level array's entries become repeated item elements; an array
  // inside it is reported like any array directly inside an array
  return visit(payload, root);
}

/**
 * Encodes an object (its keys become child elements of the root) or an array
 * (each entry becomes an item element inside the root). Throws an
 * IntegrationError (code ENCODE_XML) naming the path of every problem.
 */
export function encodeXml(payload: unknown, options: XmlOptions, root = 'payload'): string {
  if (!isPlainObject(payload) && !Array.isArray(payload)) {
    throw problemsError(
      'ENCODE_XML',
      [{ field: root, reason: `is ${describe(payload)}; XML needs an object or an array` }],
      (d) => `${d.field} ${d.reason}`,
    );
  }
  const problems: ErrorDetail[] = [];
  const tree = normalise(payload, root, problems);
  if (problems.length > 0) throw problemsError('ENCODE_XML', problems, (d) => `${d.field} ${d.reason}`);

  const content = Array.isArray(payload) ? { [options.item]: tree } : tree;
  const builder = builderFor(!!options.declaration, !!options.pretty);
  return builder.buildObject({ [options.root]: content });
}
