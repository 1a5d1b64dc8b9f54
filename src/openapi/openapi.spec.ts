import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOpenApiJson } from '../openapi.cli';

type Op = {
  summary?: string;
  description?: string;
  security?: unknown[];
  parameters?: { name: string; in: string }[];
  requestBody?: unknown;
  responses: Record<string, { headers?: Record<string, unknown>; content?: unknown }>;
};

describe('openapi.json (the committed contract)', () => {
  let json: string;
  let ops: [string, Op][];
  beforeAll(async () => {
    json = await buildOpenApiJson();
    const doc = JSON.parse(json) as { paths: Record<string, Record<string, Op>> };
    ops = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => [`${method.toUpperCase()} ${path}`, op] as [string, Op]),
    );
  }, 60_000);

  it('is up to date with the controllers (run `npm run openapi` and commit openapi.json)', () => {
    expect(readFileSync(join(__dirname, '../../openapi.json'), 'utf8')).toBe(json);
  });

  it('gives every operation a summary, a description and X-Request-Id on every response', () => {
    for (const [name, op] of ops) {
      expect({ name, summary: Boolean(op.summary), description: Boolean(op.description) }).toEqual({
        name,
        summary: true,
        description: true,
      });
      for (const [status, r] of Object.entries(op.responses))
        expect({ name, status, requestId: Boolean(r.headers?.['X-Request-Id']) }).toEqual({
          name,
          status,
          requestId: true,
        });
    }
  });

  it('documents the shared statuses and headers where they apply', () => {
    const byName = new Map(ops);
    const send = byName.get('POST /api/sms/send')!;
    expect(Object.keys(send.responses)).toEqual(
      expect.arrayContaining([
        '202',
        '400',
        '401',
        '403',
        '404',
        '409',
        '413',
        '415',
        '422',
        '429',
        '500',
        '503',
      ]),
    );
    expect(Object.keys(send.responses['202'].headers ?? {})).toEqual(
      expect.arrayContaining([
        'Idempotent-Replayed',
        'X-RateLimit-Limit',
        'X-RateLimit-Remaining',
        'X-RateLimit-Reset',
      ]),
    );
    expect(Object.keys(send.responses['429'].headers ?? {})).toContain('Retry-After');
    expect(send.parameters?.map((p) => p.name)).toEqual(
      expect.arrayContaining(['Idempotency-Key', 'X-Tenant-Id']),
    );
    const webhook = byName.get('POST /api/sms/webhooks/{provider}/status')!;
    expect(webhook.security).toEqual([]);
    expect(webhook.parameters?.map((p) => p.name)).toContain('X-Twilio-Signature');
    expect(byName.get('GET /health')!.security).toEqual([]);
    expect(Object.keys(byName.get('GET /health')!.responses)).not.toContain('503');
  });
});
