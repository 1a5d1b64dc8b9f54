import { applyDecorators, Type } from '@nestjs/common';
import { ApiBody } from '@nestjs/swagger';

/**
 * Whole request bodies from the product brief's "API Endpoints" section, shown in the docs. Phone
 * numbers are real-format (+1 202 555 01xx, the brief's +1234567890 is too short to be a number)
 * and times in the future; everything else is the brief's text.
 */
export const BRIEF_EXAMPLES = {
  send: {
    phone_number: '+12025550123',
    message: 'Your appointment is tomorrow at 2 PM',
    message_type: 'appointment_reminder',
    language: 'en',
  },
  sendTemplated: {
    phone_number: '+12025550123',
    template_id: 'appointment_reminder',
    variables: {
      date: 'March 15, 2024',
      time: '2:00 PM',
      trainer_name: 'John Doe',
      location: 'Training Room A',
    },
    language: 'en',
  },
  sendBulk: {
    phone_numbers: ['+12025550123', '+12025550124'],
    message: 'Important announcement: Training session rescheduled',
    message_type: 'general_notification',
  },
  schedule: {
    phone_number: '+12025550123',
    message: 'Reminder: Your assessment is due tomorrow',
    scheduled_time: '2030-03-15T10:00:00Z',
    message_type: 'assessment_notification',
  },
  validatePhone: { phone_number: '234-567-8900', country_code: 'US' },
  createTemplate: {
    template_id: 'welcome_message',
    name: 'Welcome Message',
    content_en: 'Welcome {{name}}! Your account has been created.',
    content_tr: 'Hoş geldiniz {{name}}! Hesabınız oluşturuldu.',
    message_type: 'general_notification', // the brief says welcome_message, not one of its message types
    variables: ['name'],
  },
} as const;

/** The request body type with the brief's example for it. */
export function ApiBriefBody(type: Type<unknown>, example: keyof typeof BRIEF_EXAMPLES): MethodDecorator {
  return applyDecorators(
    ApiBody({
      type,
      examples: { brief: { summary: 'the product brief’s example', value: BRIEF_EXAMPLES[example] } },
    }),
  );
}
