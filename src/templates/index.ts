export { TemplatesModule } from './templates.module';
export { SmsTemplateEntity } from './template.entity';
export { runningVariant, TemplatesService } from './templates.service';
export { TemplatedSender, templatedChannel } from './templated-sender';
export type { TemplatedSend } from './templated-sender';
// Campaigns render per recipient with the same pure functions
export { renderTemplate } from './render';
export { chooseLanguage } from './template-rules';
