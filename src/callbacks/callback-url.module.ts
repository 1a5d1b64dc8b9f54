import { Module } from '@nestjs/common';
import { CallbackUrlGuard, HostResolver } from './url-policy';

/**
 * The callback URL guard and the resolver behind it, on their own: callbacks checks endpoint URLs
 * and each delivery with it, messaging checks `status_callback_url` before a send is accepted.
 * Tests replace `HostResolver` to give names addresses of their own.
 */
@Module({ providers: [HostResolver, CallbackUrlGuard], exports: [CallbackUrlGuard] })
export class CallbackUrlModule {}
