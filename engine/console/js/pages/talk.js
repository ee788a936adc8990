// What the inbox, a conversation and the conversations list share: how a customer, a channel, a
// status and a priority are shown, how long someone has waited, and who "I" am (to tell my own
// notes and canned replies from others').
import { addMessages, t } from '../i18n.js';
import { badge } from '../ui.js';

/** The customer's name when the conversation knows it, else the channel's user id. */
export const customerName = (c) => (c && (c.customer_name || c.user_id)) || '';

const known = (key, fallback) => { const s = t(key); return s === key ? fallback : s; };

export const channelName = (channel) => known(`conversations.channel.${channel}`, channel || '');

/** A priority badge with its word (colour is never the only signal). */
export const priorityBadge = (p) => (p ? badge(p, known(`conversations.priority.${p}`, p)) : null);

/** The reason of a handover in words: the engine's own reasons translated, a model's as it wrote it. */
export function reasonText(reason) {
  const r = reason || '';
  if (r.startsWith('topic: ')) return t('conversations.reason.topic', { topic: r.slice(7) });
  if (r.startsWith('low confidence')) return t('conversations.reason.low');
  return known(`conversations.reason.${r}`, r);
}

export const statusBadge = (s) => badge(s, known(`conversations.status.${s}`, s));

/** "5 min", "2 h 10 min", "3 days": how long since `at` (ms since the epoch). */
export function waited(at, now = Date.now()) {
  const minutes = Math.max(0, Math.floor((now - Number(at)) / 60000));
  if (minutes < 1) return t('conversations.moment');
  if (minutes < 60) return t('conversations.minutes', { n: minutes });
  if (minutes < 1440) return t('conversations.hours', { h: Math.floor(minutes / 60), m: minutes % 60 });
  return t('conversations.days', { n: Math.floor(minutes / 1440) });
}

/** {kind, id} of the signed-in principal, as notes and canned replies name their author. */
export function me(session) {
  if (session.kind === 'agent') return { kind: 'agent', id: session.agent.id };
  return { kind: 'key', id: session.key && session.key.id };
}
export const mine = (session, who) => Boolean(who) && who.kind === me(session).kind && who.id === me(session).id;

addMessages({
  tr: {
    'conversations.channel.widget': 'Web sitesi',
    'conversations.channel.whatsapp': 'WhatsApp',
    'conversations.channel.twilio': 'WhatsApp (Twilio)',
    'conversations.channel.api': 'API',
    'conversations.channel.webhook': 'Webhook',
    'conversations.priority.low': 'Düşük öncelik',
    'conversations.priority.medium': 'Orta öncelik',
    'conversations.priority.high': 'Yüksek öncelik',
    'conversations.priority.urgent': 'Acil',
    'conversations.status.bot': 'Asistanda',
    'conversations.status.handed_over': 'Personelde',
    'conversations.status.closed': 'Kapandı',
    'conversations.moment': '1 dakikadan az',
    'conversations.minutes': '{n} dk',
    'conversations.hours': '{h} sa {m} dk',
    'conversations.days': '{n} gün',
    'conversations.unassigned': 'Atanmamış',
    'conversations.reason.human': 'Bir yetkiliyle görüşmek istedi',
    'conversations.reason.complaint': 'Şikâyet',
    'conversations.reason.injury': 'Sağlık sorunu veya yaralanma',
    'conversations.reason.media': 'Fotoğraf, ses veya dosya gönderdi',
    'conversations.reason.topic': 'Personelin yanıtlaması gereken konu: {topic}',
    'conversations.reason.low': 'Asistan yanıttan emin olamadı',
    'conversations.reason.operator took over': 'Personel devraldı',
  },
  en: {
    'conversations.channel.widget': 'Website',
    'conversations.channel.whatsapp': 'WhatsApp',
    'conversations.channel.twilio': 'WhatsApp (Twilio)',
    'conversations.channel.api': 'API',
    'conversations.channel.webhook': 'Webhook',
    'conversations.priority.low': 'Low priority',
    'conversations.priority.medium': 'Medium priority',
    'conversations.priority.high': 'High priority',
    'conversations.priority.urgent': 'Urgent',
    'conversations.status.bot': 'With the assistant',
    'conversations.status.handed_over': 'With a person',
    'conversations.status.closed': 'Closed',
    'conversations.moment': 'under a minute',
    'conversations.minutes': '{n} min',
    'conversations.hours': '{h} h {m} min',
    'conversations.days': '{n} days',
    'conversations.unassigned': 'Unassigned',
    'conversations.reason.human': 'Asked for a person',
    'conversations.reason.complaint': 'Complaint',
    'conversations.reason.injury': 'Health problem or injury',
    'conversations.reason.media': 'Sent a photo, voice message or file',
    'conversations.reason.topic': 'A topic for staff: {topic}',
    'conversations.reason.low': 'The assistant was not sure of its answer',
    'conversations.reason.operator took over': 'Taken over by staff',
  },
});
