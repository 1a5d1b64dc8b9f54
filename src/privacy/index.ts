/** The public surface of data-subject requests: the module, and the export purge retention runs. */
export { PrivacyModule, PrivacyWorkerModule } from './privacy.module';
export { PrivacyService } from './privacy.service';
export type { PrivacyRequest } from './privacy.service';
