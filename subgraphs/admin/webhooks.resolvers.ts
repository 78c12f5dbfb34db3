import { HubError } from '../../platform/errors';
import {
  createWebhook, deleteWebhook, getWebhook, listAttempts, listDeliveries, listWebhooks, markForReplay, setWebhookActive,
  type DeliveryRecord, type WebhookInput, type WebhookRecord,
} from '../../events/webhooks/webhook-store';
import type { ResolverMap } from '../shared/create-subgraph-server';
import { recordChange, type AdminContext } from './access';

/**
 * Webhooks of the admin API (events/webhooks/webhook-store.ts does the work and the access checks). Every
 * change is written to the audit log. Deliveries are queued by the relay part, woken by NOTIFY.
 */
function webhookView(w: WebhookRecord, secret: string | null = null) {
  return { ...w, status: w.status.toUpperCase(), fromPosition: String(w.fromPosition), secret };
}

function deliveryView(d: DeliveryRecord) {
  return { ...d, position: String(d.position), status: d.status.toUpperCase() };
}

export const resolvers: ResolverMap = {
  Query: {
    webhooks: async (_: unknown, __: unknown, ctx: AdminContext) => (await listWebhooks(ctx.pool, ctx.identity)).map((w) => webhookView(w)),
    webhook: async (_: unknown, args: { id: string }, ctx: AdminContext) => {
      try {
        return webhookView(await getWebhook(ctx.pool, ctx.identity, args.id));
      } catch (err) {
        if (err instanceof HubError && err.code === 'TL_ERR_NOT_FOUND') return null;
        throw err;
      }
    },
  },
  Mutation: {
    createWebhook: async (_: unknown, args: { input: WebhookInput }, ctx: AdminContext) => {
      const { webhook, secret } = await createWebhook(ctx.pool, ctx.identity, args.input);
      await recordChange(ctx, 'createWebhook', { webhook: webhook.id, url: webhook.url, filter: webhook.filter });
      return webhookView(webhook, secret);
    },
    deleteWebhook: async (_: unknown, args: { id: string }, ctx: AdminContext) => {
      const deleted = await deleteWebhook(ctx.pool, ctx.identity, args.id);
      await recordChange(ctx, 'deleteWebhook', { webhook: args.id });
      return deleted;
    },
    setWebhookActive: async (_: unknown, args: { id: string; active: boolean }, ctx: AdminContext) => {
      const webhook = await setWebhookActive(ctx.pool, ctx.identity, args.id, args.active);
      await recordChange(ctx, 'setWebhookActive', { webhook: args.id, active: args.active });
      return webhookView(webhook);
    },
    replayWebhookDeliveries: async (_: unknown, args: { webhookId: string; deliveryIds?: string[] | null; fromPosition?: string | null }, ctx: AdminContext) => {
      if (args.fromPosition != null && !/^\d{1,15}$/.test(args.fromPosition)) {
        throw new HubError('TL_ERR_BAD_USER_INPUT', 'fromPosition: a ChangeEvent.id (a non-negative integer)', { field: 'fromPosition' });
      }
      const ids = await markForReplay(ctx.pool, ctx.identity, args.webhookId, {
        deliveryIds: args.deliveryIds ?? null, fromPosition: args.fromPosition != null ? Number(args.fromPosition) : null,
      });
      await recordChange(ctx, 'replayWebhookDeliveries', { webhook: args.webhookId, deliveries: ids.length });
      return ids.length;
    },
  },
  Webhook: {
    deliveries: async (w: { id: string }, args: { statuses?: string[] | null; first?: number | null }, ctx: AdminContext) =>
      (await listDeliveries(ctx.pool, ctx.identity, w.id, { statuses: args.statuses, first: args.first })).map(deliveryView),
  },
  WebhookDelivery: {
    attemptLog: (d: { id: string }, _: unknown, ctx: AdminContext) => listAttempts(ctx.pool, d.id),
  },
};
