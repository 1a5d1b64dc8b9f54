import { Injectable } from '@nestjs/common';
import { isAdmin, Principal } from '../../auth/principal';
import { ConflictError, NotFoundError } from '../../common/errors';
import { DeliveryQueue } from '../delivery/delivery-queue';
import { SmsMessageEntity, SmsMessageEventEntity } from '../message.entity';
import { HistoryFilter, MessagesRepository } from '../repositories/messages.repository';

/**
 * Reads and cancels a caller's messages: tenant-scoped (another tenant's message is a 404), and a
 * non-admin sees only the messages they created.
 */
@Injectable()
export class MessageQueriesService {
  constructor(
    private readonly messages: MessagesRepository,
    private readonly queue: DeliveryQueue,
  ) {}

  /** A message of the caller's tenant (non-admins: only their own), else 404. */
  async get(
    p: Principal,
    id: string,
  ): Promise<{ message: SmsMessageEntity; events: SmsMessageEventEntity[] }> {
    const message = await this.messages.findOne(p.tenantId, id);
    if (!message || (!isAdmin(p) && message.createdBy !== p.userId))
      throw new NotFoundError(`message ${id} not found`);
    return { message, events: await this.messages.events(p.tenantId, id) };
  }

  history(p: Principal, filter: HistoryFilter): Promise<SmsMessageEntity[]> {
    return this.messages.history(p.tenantId, isAdmin(p) ? filter : { ...filter, createdBy: p.userId });
  }

  /** Cancels a scheduled or still-queued message; one a provider may have seen is a 409. */
  async cancel(p: Principal, id: string): Promise<void> {
    await this.get(p, id);
    const { canceled, status } = await this.messages.cancel(p.tenantId, id, `user:${p.userId}`);
    if (status === null) throw new NotFoundError(`message ${id} not found`);
    if (!canceled) {
      const message = `message ${id} is ${status} and can no longer be canceled`;
      throw new ConflictError(message, [{ errors: [message], status }]);
    }
    await this.queue.remove(id).catch(() => undefined);
  }
}
