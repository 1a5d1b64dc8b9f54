import { useEffect, useState } from 'preact/hooks';
import { describeSkip } from '../../../src/core/failure-reasons';
import { LANGUAGES } from '../../../src/core/message-types';
import { api, type Schemas } from '../api';
import { CHANNELS, isChannel, splitUrls, type Channel } from '../channels';
import { parsePairs, splitList } from '../encoding';
import { fmtDate, fmtNumber, fmtPct, lang, t } from '../i18n';
import { Card, ErrorNote, Progress, StatusBadge, errorText, useLoad } from '../ui';

type CampaignStatus = Schemas['CampaignStatusDto'];
type Language = NonNullable<Schemas['RecipientFiltersDto']['languages']>[number];

// The service's languages; assigning them here fails the build if the contract disagrees.
const KNOWN_LANGUAGES: readonly Language[] = LANGUAGES;
const isLanguage = (s: string): s is Language => (KNOWN_LANGUAGES as readonly string[]).includes(s);

const ACTIVE = new Set(['running', 'scheduled']);

export function Campaigns() {
  const list = useLoad(() => api.GET('/api/sms/campaigns', { params: { query: { limit: 50 } } }), []);
  const [statuses, setStatuses] = useState<Record<string, CampaignStatus>>({});
  const [error, setError] = useState<string | null>(null);
  const items = list.data?.items ?? [];

  // Progress of every listed campaign once; then every 2 s only of those still running or
  // scheduled (a final campaign does not change), so a long list costs few requests.
  useEffect(() => {
    let live = true;
    let timer: number | undefined;
    const known: Record<string, CampaignStatus> = {};
    async function poll(ids: string[]) {
      try {
        for (const id of ids)
          known[id] = await api.GET('/api/sms/campaigns/{id}/status', { params: { path: { id } } });
      } catch (e) {
        if (live) setError(errorText(e));
        return;
      }
      if (!live) return;
      setStatuses({ ...known });
      const active = Object.values(known)
        .filter((s) => ACTIVE.has(s.status))
        .map((s) => s.campaign_id);
      if (active.length) timer = window.setTimeout(() => void poll(active), 2000);
    }
    void poll(items.map((c) => c.campaign_id));
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [list.data]);

  async function act(id: string, action: 'execute' | 'cancel') {
    setError(null);
    try {
      const init = { params: { path: { id } } };
      if (action === 'execute') await api.POST('/api/sms/campaigns/{id}/execute', init);
      else await api.POST('/api/sms/campaigns/{id}/cancel', init);
      list.reload();
    } catch (e) {
      setError(errorText(e));
    }
  }

  return (
    <div class="grid">
      <Card title={t('campaigns')} id="campaigns">
        <ErrorNote error={list.error ?? error} />
        <div class="scroll">
          <table class="table" data-testid="campaigns-table">
            <thead>
              <tr>
                <th>{t('name')}</th>
                <th>{t('status')}</th>
                <th>{t('channel')}</th>
                <th>{t('progress')}</th>
                <th>{t('recipients')}</th>
                <th>{t('created')}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {items.map((c) => {
                const s = statuses[c.campaign_id];
                const status = s?.status ?? c.status;
                return (
                  <tr key={c.campaign_id} data-testid="campaign-row" data-status={status}>
                    <td class="campaign-name">{c.name}</td>
                    <td>
                      <StatusBadge status={status} />
                      {c.send_at === 'optimal' && (
                        <small class="sub" data-testid="campaign-optimal">
                          {t('optimalShort').replace('{h}', String(c.optimal_window_hours ?? 24))}
                        </small>
                      )}
                    </td>
                    <td data-testid="campaign-channel">{c.channel ?? t('templatesChannel')}</td>
                    <td>
                      <Progress value={s?.progress ?? 0} /> {fmtPct(s?.progress ?? 0)}
                    </td>
                    <td class="num">{fmtNumber(s?.total_recipients ?? c.estimated_recipients)}</td>
                    <td>{fmtDate(c.created_at)}</td>
                    <td class="actions">
                      {(status === 'draft' || status === 'scheduled') && (
                        <button
                          type="button"
                          onClick={() => void act(c.campaign_id, 'execute')}
                          data-testid="execute"
                        >
                          {t('execute')}
                        </button>
                      )}
                      {(status === 'draft' || ACTIVE.has(status)) && (
                        <button
                          type="button"
                          class="secondary"
                          onClick={() => void act(c.campaign_id, 'cancel')}
                        >
                          {t('cancel')}
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {list.data && items.length === 0 && <p>{t('none')}</p>}
        </div>
      </Card>
      <NewCampaign onCreated={() => list.reload()} />
    </div>
  );
}

function NewCampaign({ onCreated }: { onCreated: () => void }) {
  const templates = useLoad(() => api.GET('/api/sms/templates'), []);
  const [name, setName] = useState('');
  const [templateId, setTemplateId] = useState('');
  const [roles, setRoles] = useState('');
  const [tags, setTags] = useState('');
  const [languages, setLanguages] = useState('');
  const [vars, setVars] = useState('');
  const [optimal, setOptimal] = useState(false);
  const [windowHours, setWindowHours] = useState('24');
  const [channel, setChannel] = useState<Channel | ''>('');
  const [mediaUrls, setMediaUrls] = useState('');
  const [contentSid, setContentSid] = useState('');
  const [contentVars, setContentVars] = useState('');
  const [fallback, setFallback] = useState(false);
  const [preview, setPreview] = useState<Schemas['CampaignPreviewDto'] | null>(null);
  const [previewedFor, setPreviewedFor] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const langs = splitList(languages);
  const unknownLanguage = langs?.find((l) => !isLanguage(l));
  const languageError = unknownLanguage
    ? `recipient_filters.languages: ${unknownLanguage} is not one of ${KNOWN_LANGUAGES.join(', ')}`
    : null;
  // The channel the messages take: the campaign's own, else its template's (docs/sending.md, Channels).
  const templateChannel = templates.data?.find((tp) => tp.template_id === templateId)?.channel ?? 'sms';
  const effective: Channel = channel || templateChannel;
  const contentVariables = parsePairs(contentVars);
  const channelFields =
    effective === 'mms'
      ? { media_urls: splitUrls(mediaUrls) }
      : effective === 'whatsapp'
        ? {
            content_sid: contentSid || undefined,
            content_variables: Object.keys(contentVariables).length ? contentVariables : undefined,
            fallback_channel: fallback ? ('sms' as const) : undefined,
          }
        : {};
  const channelGiven = !!channel || Object.values(channelFields).some((v) => v !== undefined);
  const body: Schemas['CreateCampaignDto'] = {
    name,
    template_id: templateId,
    recipient_filters: {
      roles: splitList(roles),
      tags: splitList(tags),
      languages: langs?.filter(isLanguage),
    },
    variables: parsePairs(vars),
    ...(optimal ? { send_at: 'optimal' as const, optimal_window_hours: Number(windowHours) || 24 } : {}),
    ...(channelGiven ? { channel: effective, ...channelFields } : {}),
  };
  const key = JSON.stringify(body);

  // Live preview: recomputed (debounced) whenever the form changes; stores nothing.
  useEffect(() => {
    if (!templateId || !name || languageError) return;
    const timer = window.setTimeout(() => {
      api.POST('/api/sms/campaigns/preview', { body }).then(
        (p) => {
          setPreview(p);
          setPreviewedFor(key);
          setError(null);
        },
        (e: unknown) => {
          setPreview(null);
          setError(errorText(e));
        },
      );
    }, 400);
    return () => clearTimeout(timer);
  }, [key, languageError]);

  async function create(e: Event) {
    e.preventDefault();
    setBusy(true);
    try {
      await api.POST('/api/sms/campaigns', { body });
      setName('');
      setPreview(null);
      onCreated();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card title={t('newCampaign')} id="new-campaign">
      <form class="form" onSubmit={create}>
        <label>
          {t('name')}
          <input
            name="name"
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
            maxLength={200}
            required
          />
        </label>
        <label>
          {t('template')}
          <select
            name="template"
            value={templateId}
            onChange={(e) => setTemplateId(e.currentTarget.value)}
            required
          >
            <option value="">—</option>
            {templates.data?.map((tp) => (
              <option key={tp.template_id} value={tp.template_id}>
                {tp.template_id} · {tp.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('roles')}
          <input name="roles" value={roles} onInput={(e) => setRoles(e.currentTarget.value)} />
        </label>
        <label>
          {t('tags')}
          <input name="tags" value={tags} onInput={(e) => setTags(e.currentTarget.value)} />
        </label>
        <label>
          {t('languages')}
          <input name="languages" value={languages} onInput={(e) => setLanguages(e.currentTarget.value)} />
        </label>
        <label>
          {t('variables')}
          <textarea name="variables" rows={3} value={vars} onInput={(e) => setVars(e.currentTarget.value)} />
        </label>
        <label>
          {t('channel')}
          <select
            name="channel"
            value={channel}
            onChange={(e) => {
              const v = e.currentTarget.value;
              setChannel(isChannel(v) ? v : '');
            }}
          >
            <option value="">
              {t('templatesChannel')} ({templateChannel})
            </option>
            {CHANNELS.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        {effective === 'mms' && (
          <label>
            {t('mediaUrls')}
            <textarea
              name="media_urls"
              rows={2}
              value={mediaUrls}
              onInput={(e) => setMediaUrls(e.currentTarget.value)}
              placeholder="https://cdn.example.com/flyer.jpg"
              spellcheck={false}
            />
          </label>
        )}
        {effective === 'whatsapp' && (
          <>
            <label>
              {t('contentSid')}
              <input
                name="content_sid"
                value={contentSid}
                onInput={(e) => setContentSid(e.currentTarget.value)}
                pattern="HX[0-9a-f]{32}"
                placeholder="HX…"
                spellcheck={false}
              />
              <small class="help">{t('contentSidHelp')}</small>
            </label>
            <label>
              {t('contentVariables')}
              <textarea
                name="content_variables"
                rows={2}
                value={contentVars}
                onInput={(e) => setContentVars(e.currentTarget.value)}
                placeholder="1=Ada"
              />
            </label>
            <label class="check">
              <input
                type="checkbox"
                name="fallback_sms"
                checked={fallback}
                onChange={(e) => setFallback(e.currentTarget.checked)}
              />{' '}
              {t('fallbackSms')}
            </label>
          </>
        )}
        <label class="check">
          <input
            type="checkbox"
            name="send_at_optimal"
            checked={optimal}
            onChange={(e) => setOptimal(e.currentTarget.checked)}
          />{' '}
          {t('sendAtOptimal')}
        </label>
        {optimal && (
          <label>
            {t('optimalWindow')}
            <input
              name="optimal_window_hours"
              type="number"
              min={1}
              max={72}
              value={windowHours}
              onInput={(e) => setWindowHours(e.currentTarget.value)}
            />
          </label>
        )}
        <ErrorNote error={languageError ?? error} />
        {preview && !languageError && (
          <div class="preview" data-testid="campaign-preview">
            <h3>{t('preview')}</h3>
            <dl class="facts">
              <dt>{t('recipients')}</dt>
              <dd data-testid="preview-total">{fmtNumber(preview.total_recipients)}</dd>
              <dt>{t('willSend')}</dt>
              <dd data-testid="preview-will-send">{fmtNumber(preview.will_send)}</dd>
              <dt>{t('skipped')}</dt>
              <dd data-testid="preview-skipped">
                {Object.entries(preview.skipped)
                  .map(([k, v]) => `${k}: ${v}`)
                  .join(', ') || '0'}
                {Object.entries(preview.skipped).map(([k, v]) => {
                  // What a person can do about each skip the preview found.
                  const why = typeof v === 'number' && v > 0 ? describeSkip(k) : null;
                  return why ? (
                    <small key={k} class="failure-reason">
                      {k}: {why.message[lang.value]}
                    </small>
                  ) : null;
                })}
              </dd>
              <dt>{t('segments')}</dt>
              <dd>{fmtNumber(preview.segments)}</dd>
              <dt>{t('encoding')}</dt>
              <dd>
                {Object.entries(preview.encoding)
                  .map(([k, v]) => `${k}: ${v}`)
                  .join(', ')}
              </dd>
              <dt>{t('estimatedCost')}</dt>
              <dd>
                {preview.estimated_cost ?? '—'} {preview.currency}
              </dd>
            </dl>
            <h4>{t('samples')}</h4>
            <ul class="list">
              {preview.sample.map((s) => (
                <li key={s.user_id}>
                  <small>
                    {s.user_id} · {s.language} · {s.encoding}
                  </small>
                  <div class="sample">{s.text}</div>
                </li>
              ))}
            </ul>
          </div>
        )}
        <p class="help">{t('previewFirst')}</p>
        <button
          type="submit"
          disabled={busy || !preview || previewedFor !== key || !!languageError}
          data-testid="create-campaign"
        >
          {t('create')}
        </button>
      </form>
    </Card>
  );
}
