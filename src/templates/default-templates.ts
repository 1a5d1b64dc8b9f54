import { MessageType } from '../messaging/message-types';

export interface DefaultTemplate {
  template_id: string;
  name: string;
  message_type: MessageType;
  variables: string[];
  content: { en: string; tr: string };
}

/**
 * The built-in templates every tenant sees (seeded by a migration). English fits one GSM-7
 * segment with typical values; Turkish letters force UCS-2 (70 characters a segment), so the
 * longer Turkish texts take two.
 */
export const DEFAULT_TEMPLATES: readonly DefaultTemplate[] = [
  {
    template_id: 'appointment_reminder',
    name: 'Appointment reminder',
    message_type: 'appointment_reminder',
    variables: ['date', 'time', 'trainer_name', 'location'],
    content: {
      en: 'Reminder: your appointment with {{trainer_name}} is on {{date}} at {{time}}, {{location}}.',
      tr: 'Hatırlatma: {{trainer_name}} ile randevunuz {{date}} saat {{time}}, {{location}}.',
    },
  },
  {
    template_id: 'assessment_notification',
    name: 'Assessment notification',
    message_type: 'assessment_notification',
    variables: ['assessment_name', 'due_date'],
    content: {
      en: 'Your assessment "{{assessment_name}}" is due on {{due_date}}.',
      tr: '"{{assessment_name}}" değerlendirmenizin son tarihi {{due_date}}.',
    },
  },
  {
    template_id: 'password_reset',
    name: 'Password reset code',
    message_type: 'password_reset',
    variables: ['code'],
    content: {
      en: 'Your password reset code is {{code}}. Do not share it with anyone.',
      tr: 'Şifre sıfırlama kodunuz: {{code}}. Bu kodu kimseyle paylaşmayın.',
    },
  },
  {
    template_id: '2fa_code',
    name: 'Two-factor verification code',
    message_type: '2fa_code',
    variables: ['code'],
    content: {
      en: 'Your verification code is {{code}}. Do not share it with anyone.',
      tr: 'Doğrulama kodunuz: {{code}}. Bu kodu kimseyle paylaşmayın.',
    },
  },
  {
    template_id: 'general_notification',
    name: 'General notification',
    message_type: 'general_notification',
    variables: ['message'],
    content: { en: '{{message}}', tr: '{{message}}' },
  },
];
