import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { ErrorBody } from './exception.filter';

const KIB = 1024;
const MIB = 1024 * KIB;

/** What a route reads: its parser and limit (bytes, counted after decompression). */
export interface BodyRule {
  kind: 'json' | 'text' | 'urlencoded';
  limit: number;
}

/**
 * The app's body rules, by media type and then path: the one place a limit is set. A media type
 * not listed, or text/plain outside the SNS route, answers 415.
 */
export function bodyRule(mediaType: string, method: string, path: string): BodyRule | null {
  if (mediaType === 'application/json') {
    // 10,000-row directory uploads.
    return { kind: 'json', limit: path.startsWith('/api/sms/recipients') ? 8 * MIB : MIB };
  }
  if (mediaType === 'application/x-www-form-urlencoded') return { kind: 'urlencoded', limit: MIB };
  // SNS posts its JSON as text/plain; an SNS message is at most 256 KB.
  if (mediaType === 'text/plain' && method === 'POST' && path === '/api/sms/webhooks/sns')
    return { kind: 'text', limit: 512 * KIB };
  return null;
}

/** A body the app cannot read: answered as `body` (413, 415 or 400), never a 500. */
export class UnreadableBodyError extends Error {
  constructor(readonly body: ErrorBody) {
    super(body.message);
  }
}

const unreadable = (statusCode: 400 | 413 | 415, error: string, message: string) =>
  new UnreadableBodyError({ statusCode, error, message });
const tooLarge = (limit: number) =>
  unreadable(413, 'Payload Too Large', `request body exceeds ${size(limit)}`);
export const unsupportedMediaType = (type: string) =>
  unreadable(
    415,
    'Unsupported Media Type',
    `unsupported Content-Type${type ? ` '${type.slice(0, 60)}'` : ''}: send application/json`,
  );

/** A limit as people write it: 1 MiB, 512 KiB. */
function size(limit: number): string {
  if (limit % MIB === 0) return `${limit / MIB} MiB`;
  if (limit % KIB === 0) return `${limit / KIB} KiB`;
  return `${limit} bytes`;
}

/** The charsets each parser reads (as Express's did: forms and text also in ISO-8859-1). */
const CHARSETS: Record<BodyRule['kind'], Record<string, BufferEncoding>> = {
  json: { 'utf-8': 'utf8', utf8: 'utf8', 'us-ascii': 'utf8' },
  urlencoded: { 'utf-8': 'utf8', utf8: 'utf8', 'us-ascii': 'utf8', 'iso-8859-1': 'latin1' },
  text: { 'utf-8': 'utf8', utf8: 'utf8', 'us-ascii': 'utf8', 'iso-8859-1': 'latin1' },
};
/** Express's urlencoded parser's limit: a form with more fields is refused, not truncated. */
const MAX_FORM_FIELDS = 1000;

/** The request's body stream, decompressed per Content-Encoding (identity, gzip, deflate, br). */
function decoded(req: IncomingMessage): Readable {
  const encoding = String(req.headers['content-encoding'] ?? 'identity')
    .trim()
    .toLowerCase();
  switch (encoding) {
    case 'identity':
    case '':
      return req;
    case 'gzip':
    case 'x-gzip':
      return req.pipe(createGunzip());
    case 'deflate':
      return req.pipe(createInflate());
    case 'br':
      return req.pipe(createBrotliDecompress());
    default:
      throw unreadable(
        415,
        'Unsupported Media Type',
        'unsupported Content-Encoding (accepted: identity, gzip, deflate, br)',
      );
  }
}

/** Reads the whole (decompressed) body, refusing it as soon as it passes `limit`. */
function readBody(req: IncomingMessage, limit: number, encoding: BufferEncoding): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (!req.headers['content-encoding'] && declared > limit) return Promise.reject(tooLarge(limit));
  let stream: Readable;
  try {
    stream = decoded(req);
  } catch (e) {
    return Promise.reject(e);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let settled = false;
    const fail = (e: UnreadableBodyError) => {
      if (settled) return;
      settled = true;
      if (stream !== req) stream.destroy();
      // Stop reading: the answer goes out now, and the rest of the body is not kept.
      req.unpipe();
      req.resume();
      reject(e);
    };
    stream.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) return fail(tooLarge(limit));
      chunks.push(chunk);
    });
    const cutShort = () => fail(unreadable(400, 'Bad Request', 'the request body was cut short'));
    // A client that goes away mid-body: the request errors, and a decompressor it was piped into
    // would wait for more forever (holding what it read), so the request's own error ends it too.
    req.once('error', cutShort);
    if (stream !== req)
      stream.on('error', () =>
        fail(unreadable(400, 'Bad Request', 'request body does not match its Content-Encoding')),
      );
    stream.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks, length).toString(encoding));
    });
  });
}

function parseText(rule: BodyRule, text: string): unknown {
  if (rule.kind === 'text') return text;
  // An empty body reads as no fields, as Express read it: the route's validation names what is missing.
  if (text === '') return {};
  if (rule.kind === 'json') {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw unreadable(400, 'Bad Request', 'malformed JSON body');
    }
  }
  const form = parseQuery(text, '&', '=', { maxKeys: MAX_FORM_FIELDS + 1 });
  const names = Object.keys(form);
  if (names.length > MAX_FORM_FIELDS) throw unreadable(413, 'Payload Too Large', 'too many form fields');
  // Flat forms only (a repeated name is a list): `a[b]=c` nests nothing, it is refused.
  if (names.some((n) => n.includes('[')))
    throw unreadable(400, 'Bad Request', 'form field names may not contain brackets');
  // Plain objects and arrays (querystring's object has no prototype).
  return Object.fromEntries(names.map((n) => [n, Array.isArray(form[n]) ? [...form[n]] : form[n]]));
}

/**
 * Replaces Fastify's parsers with the app's: every body, on every route, is read here, so each
 * one the app cannot read answers alike (413, 415 or 400 in the shared error body, through the
 * exception filter) and no parser error becomes a 500.
 */
export function registerBodyParsers(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  // eslint-disable-next-line no-restricted-properties -- the one place the app's bodies are read
  fastify.addContentTypeParser('*', (request: FastifyRequest, payload: IncomingMessage, done) => {
    const [mediaType, ...params] = String(request.headers['content-type'] ?? '')
      .split(';')
      .map((s) => s.trim().toLowerCase());
    const rule = bodyRule(mediaType, request.method, request.url.split('?')[0]);
    if (!rule) return done(unsupportedMediaType(mediaType), undefined);
    const charset = params
      .find((p) => p.startsWith('charset='))
      ?.slice('charset='.length)
      .replace(/"/g, '');
    const table = CHARSETS[rule.kind];
    const encoding =
      charset === undefined ? 'utf8' : Object.hasOwn(table, charset) ? table[charset] : undefined;
    if (encoding === undefined)
      return done(unreadable(415, 'Unsupported Media Type', 'unsupported charset (use utf-8)'), undefined);
    readBody(payload, rule.limit, encoding).then(
      (text) => {
        try {
          done(null, parseText(rule, text));
        } catch (e) {
          done(e as Error, undefined);
        }
      },
      (e: Error) => done(e, undefined),
    );
  });
}
