import { useEffect, useState } from 'preact/hooks';
import { api, type Schemas } from '../api';
import { isAdmin, type Session } from '../auth';
import {
  parsePairs,
  renderSample,
  smartEncode,
  smartEncodingMode,
  type SmartEncodingMode,
  tenantSmartEncoding,
  ucs2Characters,
  ucs2Runs,
} from '../encoding';
import { CODE_MESSAGE_TYPES } from '../../../src/core/message-types';
import { CHANNELS, isChannel, type Channel } from '../channels';
import { t } from '../i18n';
import { Card, ErrorNote, errorText, useLoad } from '../ui';
import { VariantTest } from './variant-test';

type Template = Schemas['TemplateResponseDto'];

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

function placeholders(...texts: string[]): string[] {
  const names = new Set<string>();
  for (const text of texts) for (const m of text.matchAll(PLACEHOLDER)) names.add(m[1]);
  return [...names];
}

export function Templates({ session }: { session: Session }) {
  const list = useLoad(() => api.GET('/api/sms/templates'), []);
  const [selected, setSelected] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const admin = isAdmin(session);
  const current = list.data?.find((x) => x.template_id === selected) ?? null;
  const tenantMode = tenantSmartEncoding(list.data ?? []);
  return (
    <div class="grid templates">
      <Card title={t('templates')} id="templates">
        <ErrorNote error={list.error} />
        {!admin && <p class="help">{t('readOnly')}</p>}
        <ul class="list picker">
          {list.data?.map((tp) => (
            <li key={tp.template_id}>
              <button
                type="button"
                class={tp.template_id === selected ? 'link on' : 'link'}
                data-testid={`template-${tp.template_id}`}
                onClick={() => {
                  setCreating(false);
                  setSelected(tp.template_id);
                }}
              >
                {tp.template_id}
              </button>{' '}
              <small class="template-name">{tp.name}</small>{' '}
              {tp.channel !== 'sms' && (
                <small data-testid={`template-channel-${tp.template_id}`}>{tp.channel}</small>
              )}{' '}
              {tp.is_default && <small>({t('builtIn')})</small>}
            </li>
          ))}
        </ul>
        {admin && (
          <button
            type="button"
            onClick={() => {
              setSelected(null);
              setCreating(true);
            }}
            data-testid="new-template"
          >
            {t('newTemplate')}
          </button>
        )}
      </Card>
      {(current || creating) && (
        <Editor
          key={current ? current.template_id : 'new'}
          template={current}
          tenantMode={tenantMode}
          editable={admin}
          onSaved={(id) => {
            setCreating(false);
            setSelected(id);
            list.reload();
          }}
        />
      )}
      {current && !current.is_default && (
        <VariantTest
          key={`${current.template_id}:${current.version}`}
          template={current}
          admin={admin}
          onPromoted={() => list.reload()}
        />
      )}
    </div>
  );
}

function Editor({
  template,
  tenantMode,
  editable,
  onSaved,
}: {
  template: Template | null;
  /** The tenant's smart_encoding: what the counters apply unless the template is exact or a code type. */
  tenantMode: SmartEncodingMode;
  editable: boolean;
  onSaved: (id: string) => void;
}) {
  const [id, setId] = useState(template?.template_id ?? '');
  const [name, setName] = useState(template?.name ?? '');
  const [type, setType] = useState(template?.message_type ?? '');
  const [en, setEn] = useState(template?.content_en ?? '');
  const [tr, setTr] = useState(template?.content_tr ?? '');
  const [exact, setExact] = useState(template?.exact ?? false);
  const [channel, setChannel] = useState<Channel>(template?.channel ?? 'sms');
  const [contentSid, setContentSid] = useState(template?.content_sid ?? '');
  const [sample, setSample] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => setSaved(false), [en, tr, name, type, exact, channel, contentSid]);
  const vars = parsePairs(sample);
  const mode = smartEncodingMode(tenantMode, { messageType: type, exact });
  // A code (password_reset, 2fa_code) goes by SMS only.
  const codeType = CODE_MESSAGE_TYPES.includes(type);
  const sendChannel: Channel = codeType ? 'sms' : channel;

  async function save(e: Event) {
    e.preventDefault();
    setError(null);
    const body: Schemas['ReplaceTemplateDto'] = {
      name,
      message_type: type,
      content_en: en,
      content_tr: tr || undefined,
      variables: placeholders(en, tr),
      exact,
      channel: sendChannel,
      // Only WhatsApp sends an approved template; left empty, the stored one (if any) stays.
      content_sid: sendChannel === 'whatsapp' && contentSid ? contentSid : undefined,
    };
    try {
      if (!template) await api.POST('/api/sms/templates', { body: { template_id: id, ...body } });
      else if (template.is_default)
        // A default is read-only: the tenant's own template with its id replaces it for the tenant.
        await api.POST('/api/sms/templates', { body: { template_id: template.template_id, ...body } });
      else
        await api.PUT('/api/sms/templates/{templateId}', {
          params: { path: { templateId: template.template_id } },
          body,
        });
      setSaved(true);
      onSaved(template?.template_id ?? id);
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <Card title={template ? template.template_id : t('newTemplate')} id="template-editor">
      <form class="form" onSubmit={save}>
        {!template && (
          <label>
            {t('templateId')}
            <input name="template_id" value={id} onInput={(e) => setId(e.currentTarget.value)} required />
          </label>
        )}
        <label>
          {t('name')}
          <input
            name="name"
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
            readOnly={!editable}
            required
          />
        </label>
        <label>
          {t('messageType')}
          <input
            name="message_type"
            value={type}
            onInput={(e) => setType(e.currentTarget.value)}
            readOnly={!editable}
            required
          />
        </label>
        <label class="check">
          <input
            type="checkbox"
            name="exact"
            checked={exact}
            disabled={!editable}
            onChange={(e) => setExact(e.currentTarget.checked)}
          />{' '}
          {t('exact')}
        </label>
        <label>
          {t('channel')}
          <select
            name="channel"
            value={sendChannel}
            disabled={!editable || codeType}
            onChange={(e) => {
              const v = e.currentTarget.value;
              if (isChannel(v)) setChannel(v);
            }}
          >
            {CHANNELS.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        {codeType && <p class="help">{t('codesBySms')}</p>}
        {sendChannel === 'whatsapp' && (
          <label>
            {t('contentSid')}
            <input
              name="content_sid"
              value={contentSid}
              onInput={(e) => setContentSid(e.currentTarget.value)}
              readOnly={!editable}
              pattern="HX[0-9a-f]{32}"
              placeholder="HX…"
              spellcheck={false}
            />
            <small class="help">{t('contentSidHelp')}</small>
          </label>
        )}
        {sendChannel === 'mms' && <p class="help">{t('mmsTemplateHelp')}</p>}
        <p class="help">
          {t('smartEncoding')}: <span data-testid="smart-mode">{mode}</span>
        </p>
        <div class="side-by-side">
          <LanguagePane
            label={t('english')}
            lang="en"
            value={en}
            onInput={setEn}
            editable={editable}
            vars={vars}
            mode={mode}
          />
          <LanguagePane
            label={t('turkish')}
            lang="tr"
            value={tr}
            onInput={setTr}
            editable={editable}
            vars={vars}
            mode={mode}
          />
        </div>
        <label>
          {t('sampleVars')}
          <textarea
            name="sample"
            rows={3}
            value={sample}
            onInput={(e) => setSample(e.currentTarget.value)}
            placeholder="name=Ayşe"
          />
        </label>
        <ErrorNote error={error} />
        {saved && (
          <p class="notice" data-testid="saved">
            {t('saved')}
          </p>
        )}
        {editable && (
          <button type="submit" data-testid="save-template">
            {t('save')}
          </button>
        )}
      </form>
    </Card>
  );
}

function LanguagePane({
  label,
  lang,
  value,
  onInput,
  editable,
  vars,
  mode,
}: {
  label: string;
  lang: 'en' | 'tr';
  value: string;
  onInput: (v: string) => void;
  editable: boolean;
  vars: Record<string, string>;
  mode: SmartEncodingMode;
}) {
  // The counter is the text as sent: after smart encoding, as the service will send it.
  const sent = smartEncode(renderSample(value, vars), mode);
  const rendered = sent.text;
  const a = sent.analysis;
  const smart = sent.report;
  const forcing = ucs2Characters(rendered);
  return (
    <div class="pane" data-testid={`pane-${lang}`}>
      <label>
        {label}
        <textarea
          name={`content_${lang}`}
          rows={5}
          value={value}
          readOnly={!editable}
          onInput={(e) => onInput(e.currentTarget.value)}
          lang={lang}
        />
      </label>
      <p class="counter" data-testid={`counter-${lang}`}>
        {a.characters} {t('chars')} · {a.segments} {t('segments').toLowerCase()} ·{' '}
        <span data-testid={`encoding-${lang}`}>{a.encoding}</span>
      </p>
      {smart && (
        <p class="notice" role="status" data-testid={`smart-${lang}`}>
          {t('smartEncoding')} ({smart.mode}): {t('asWritten')} {smart.before.encoding} ·{' '}
          {smart.before.segments} {t('segments').toLowerCase()} → {t('asSent')} {smart.after.encoding} ·{' '}
          {smart.after.segments} {t('segments').toLowerCase()} ({smart.changed} {t('charsReplaced')})
        </p>
      )}
      {forcing.length > 0 && (
        <p class="warning" role="status" data-testid={`ucs2-${lang}`}>
          {t('ucs2Warning')}{' '}
          {forcing.map((c) => (
            <mark key={c} class="ucs2">
              {c}
            </mark>
          ))}
        </p>
      )}
      <div class="rendered" data-testid={`rendered-${lang}`} aria-label={t('renderedPreview')}>
        {ucs2Runs(rendered).map((r, i) =>
          r.ucs2 ? (
            <mark key={i} class="ucs2">
              {r.text}
            </mark>
          ) : (
            <span key={i}>{r.text}</span>
          ),
        )}
      </div>
    </div>
  );
}
