import RequestClient from 'twilio/lib/base/RequestClient';
import type Response from 'twilio/lib/http/response';

const TWILIO_API = 'https://api.twilio.com';

/**
 * Twilio's `edge`/`region` options cannot point at an arbitrary host, so a configured base URL
 * (a local fake in tests, a proxy in some deployments) is applied by rewriting each request URI.
 */
export class TwilioHttpClient extends RequestClient {
  constructor(
    private readonly baseUrl: string | undefined,
    timeoutMs: number,
  ) {
    super({ timeout: timeoutMs, keepAlive: true, autoRetry: false });
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<Response<TData>> {
    const uri =
      this.baseUrl && opts.uri.startsWith(TWILIO_API)
        ? this.baseUrl + opts.uri.slice(TWILIO_API.length)
        : opts.uri;
    return super.request({ ...opts, uri });
  }
}
