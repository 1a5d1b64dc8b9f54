/**
 * The dashboard (web/) takes its request and answer types from the contract generated from
 * openapi.json (clients/typescript/src/schema.ts). Here web/ is type-checked as
 * `npm run build:web` does (web/tsconfig.json), against altered copies of schema.ts held in
 * memory: each change to the contract that a page relies on must fail the check in that page,
 * and a change no page relies on must not.
 */
import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import * as ts from 'typescript';

const ROOT = resolve(__dirname, '../..');
const SCHEMA = join(ROOT, 'clients/typescript/src/schema.ts');
const WEB_CONFIG = join(ROOT, 'web/tsconfig.json');
const committed = readFileSync(SCHEMA, 'utf8');

const config = ts.getParsedCommandLineOfConfigFile(
  WEB_CONFIG,
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  },
);
if (!config) throw new Error(`cannot read ${WEB_CONFIG}`);
const baseHost = ts.createCompilerHost(config.options, true);
const parsed = new Map<string, ts.SourceFile>(); // every file but the schema, parsed once
let previous: ts.Program | undefined;

/** `file: message` for each diagnostic of `tsc -p web/tsconfig.json --noEmit` with `schema` as schema.ts. */
function checkWeb(schema: string): string[] {
  const host: ts.CompilerHost = {
    ...baseHost,
    readFile: (f) => (resolve(f) === SCHEMA ? schema : baseHost.readFile(f)),
    getSourceFile: (f, language, onError) => {
      if (resolve(f) === SCHEMA) return ts.createSourceFile(f, schema, language);
      let sf = parsed.get(f);
      if (!sf) {
        sf = baseHost.getSourceFile(f, language, onError);
        if (sf) parsed.set(f, sf);
      }
      return sf;
    },
  };
  const program = ts.createProgram({
    rootNames: config!.fileNames,
    options: config!.options,
    host,
    oldProgram: previous,
  });
  previous = program;
  return ts
    .getPreEmitDiagnostics(program)
    .map(
      (d) =>
        `${d.file ? relative(ROOT, d.file.fileName) : '-'}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`,
    );
}

/** `schema` with `from` replaced by `to` inside the block that starts at the line `start` (e.g. `    AlertDto: {`). */
function within(schema: string, start: string, from: string, to: string): string {
  const begin = schema.indexOf(`\n${start}\n`);
  if (begin < 0) throw new Error(`no block ${start.trim()} in schema.ts`);
  const indent = /^ */.exec(start)![0];
  const end = schema.indexOf(`\n${indent}};`, begin);
  const block = schema.slice(begin, end);
  if (!block.includes(from)) throw new Error(`${start.trim()} has no ${from}`);
  return schema.slice(0, begin) + block.replace(from, to) + schema.slice(end);
}

const changes: [change: string, alter: (s: string) => string, failingFile: string][] = [
  [
    'a field a page shows is renamed (AlertDto.message)',
    (s) => within(s, '    AlertDto: {', '      message: string;', '      text: string;'),
    'web/src/pages/alerts.tsx',
  ],
  [
    'a field changes type (StatsFiguresDto.delivery_rate becomes a string)',
    (s) =>
      within(s, '    StatsFiguresDto: {', 'delivery_rate: number | null;', 'delivery_rate: string | null;'),
    'web/src/pages/overview.tsx',
  ],
  [
    'a path a page calls moves (/api/sms/campaigns/{id}/status)',
    (s) => s.replace("'/api/sms/campaigns/{id}/status': {", "'/api/sms/campaigns/{id}/progress': {"),
    'web/src/pages/campaigns.tsx',
  ],
  [
    'a path parameter is renamed (DELETE /api/sms/opt-outs/{phoneNumber})',
    (s) => within(s, '  OptOuts_remove: {', '        phoneNumber: string;', '        phone: string;'),
    'web/src/pages/opt-outs.tsx',
  ],
  [
    'a request body gains a required field (CreateCampaignDto)',
    (s) =>
      within(
        s,
        '    CreateCampaignDto: {',
        '      name: string;',
        '      name: string;\n      priority: number;',
      ),
    'web/src/pages/campaigns.tsx',
  ],
  [
    'the languages a campaign filters on lose one (RecipientFiltersDto.languages)',
    (s) => within(s, '    RecipientFiltersDto: {', "languages?: ('en' | 'tr')[];", "languages?: 'en'[];"),
    'web/src/pages/campaigns.tsx',
  ],
  [
    'a status the history filter takes is dropped (GET /api/sms/history ?status)',
    (s) => within(s, '  Messaging_history: {', "          | 'unknown'\n", ''),
    'web/src/pages/messages.tsx',
  ],
  [
    'a channel the history filter takes is dropped (GET /api/sms/history ?channel)',
    (s) =>
      within(
        s,
        '  Messaging_history: {',
        "channel?: 'sms' | 'whatsapp' | 'mms';",
        "channel?: 'sms' | 'whatsapp';",
      ),
    'web/src/pages/messages.tsx',
  ],
  [
    'the channel the inbound page shows is renamed (InboundMessageDto.channel)',
    (s) =>
      within(
        s,
        '    InboundMessageDto: {',
        "      channel: 'sms' | 'whatsapp';",
        "      via: 'sms' | 'whatsapp';",
      ),
    'web/src/pages/inbound.tsx',
  ],
  [
    'a tenant field the tenants page shows is renamed (TenantResponseDto.active)',
    (s) => within(s, '    TenantResponseDto: {', '      active: boolean;', '      enabled: boolean;'),
    'web/src/pages/tenants.tsx',
  ],
  [
    'a provider health field the overview shows is renamed (RecentCallsDto.error_rate)',
    (s) =>
      within(
        s,
        '    RecentCallsDto: {',
        '      error_rate: number | null;',
        '      failure_rate: number | null;',
      ),
    'web/src/pages/overview.tsx',
  ],
  [
    'the pause flag the webhooks page shows is renamed (EndpointDto.paused)',
    (s) => within(s, '    EndpointDto: {', '      paused: boolean;', '      suspended: boolean;'),
    'web/src/pages/webhooks.tsx',
  ],
];

describe('the dashboard against its contract (web/ type-checked as npm run build:web does)', () => {
  it('type-checks against the committed schema.ts', () => {
    expect(checkWeb(committed)).toEqual([]);
  }, 120_000); // a whole type-check of web/ each, on a shared machine

  it.each(changes)(
    'fails when %s',
    (_change, alter, failingFile) => {
      const errors = checkWeb(alter(committed));
      expect(errors.filter((e) => e.startsWith(`${failingFile}:`))).not.toEqual([]);
    },
    120_000,
  );

  it('still builds when an answer no page reads changes (AppointmentResponseDto)', () => {
    const altered = within(
      committed,
      '    AppointmentResponseDto: {',
      '      appointment_id: string;',
      '      id: string;',
    );
    expect(checkWeb(altered)).toEqual([]);
  }, 120_000);
});
