// eslint-disable-next-line no-restricted-imports -- the one place the app's body parsers are built
import { json, NextFunction, Request, RequestHandler, Response, text, urlencoded } from 'express';
import { bodyParserErrorBody } from './exception.filter';

export interface BodyParserOptions {
  /** The most bytes read (after decompression); a longer body answers 413 naming it. */
  limit: number;
  /** The media type read, when not the parser's usual one (e.g. 'text/plain'). */
  type?: string;
}

const PARSERS: Record<'json' | 'text' | 'urlencoded', (o: BodyParserOptions) => RequestHandler> = {
  json: ({ limit, type }) => json({ limit, ...(type ? { type } : {}) }),
  text: ({ limit, type }) => text({ limit, ...(type ? { type } : {}) }),
  urlencoded: ({ limit, type }) => urlencoded({ limit, extended: false, ...(type ? { type } : {}) }),
};

/**
 * A request-body parser that answers a body it cannot read itself: too large (413), a charset or
 * Content-Encoding it does not read (415), malformed JSON or a compressed body that does not
 * decompress (400), in the shared error body. Every parser of the app, global (configureApp) or
 * a module's own middleware, is built here, so all of them answer alike: an error a parser passed
 * on would reach the exception filter, which answers 500 and logs a stack.
 */
export function bodyParser(kind: keyof typeof PARSERS, options: BodyParserOptions): RequestHandler {
  const parse = PARSERS[kind](options);
  return (req: Request, res: Response, next: NextFunction) => {
    void parse(req, res, (err?: unknown) => {
      if (err === undefined) return next();
      const body = bodyParserErrorBody(err);
      if (!body) return next(err);
      res.status(body.statusCode).json(body);
    });
  };
}
