import type { Server } from 'node:http';
import type { AppConfig } from '../config/app-config';

/**
 * The HTTP server's connection timeouts, from the settings (see HTTP_KEEP_ALIVE_TIMEOUT_MS).
 * Node keeps an idle keep-alive connection 5 s, less than a load balancer's idle timeout (AWS
 * ALB: 60 s): the balancer then sends a request on a connection the service has just closed and
 * its client gets a 502 (Fastify's own default, 72 s, is set here explicitly). Called on
 * `app.getHttpServer()` by main.ts and the test app, so the tests run production's values.
 */
export function tuneHttpServer(server: Server, config: AppConfig): void {
  server.keepAliveTimeout = config.get('HTTP_KEEP_ALIVE_TIMEOUT_MS');
  server.headersTimeout = config.get('HTTP_HEADERS_TIMEOUT_MS');
  server.requestTimeout = config.get('HTTP_REQUEST_TIMEOUT_MS');
}
