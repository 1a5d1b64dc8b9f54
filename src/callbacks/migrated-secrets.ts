import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SecretBox } from './secret-box';

/**
 * Seals the signing secrets the alert_webhook_url migration (1764002300000) carried over in clear
 * (`sms_webhook_endpoints.secret_unsealed`: SQL has no data key), when any role starts, so none is
 * left in clear once a replica has started. The dispatcher signs with either form, so nothing waits
 * for this. Idempotent and safe across replicas: each row is swapped only while it still holds the
 * very secret that was read (compare and set), so two replicas sealing at once write one
 * ciphertext of the same secret, and a rotation in between is never overwritten.
 */
@Injectable()
export class MigratedSecretSealer implements OnModuleInit {
  private readonly logger = new Logger(MigratedSecretSealer.name);

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly box: SecretBox,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.sealAll();
  }

  /** Returns how many secrets this call sealed. */
  async sealAll(): Promise<number> {
    const rows: { id: string; secret_unsealed: string }[] = await this.ds.query(
      'SELECT id, secret_unsealed FROM sms_webhook_endpoints WHERE secret_unsealed IS NOT NULL',
    );
    let sealed = 0;
    for (const r of rows) {
      const [done]: [unknown[], number] = await this.ds.query(
        `UPDATE sms_webhook_endpoints SET secret_ciphertext = $2, secret_unsealed = NULL
          WHERE id = $1 AND secret_unsealed = $3 RETURNING id`,
        [r.id, this.box.seal(r.secret_unsealed), r.secret_unsealed],
      );
      sealed += done.length;
    }
    if (sealed > 0) this.logger.log({ sealed }, 'sealed the signing secrets of migrated alert endpoints');
    return sealed;
  }
}
