package platform

import (
	"context"
	"time"

	"switchboard/convert"
	"switchboard/gen/platformapi"
	"switchboard/models/events"
	"switchboard/server"
)

// CreateWebhook (POST /webhooks) answers the new subscription with its secret, this once.
func (h *Handler) CreateWebhook(ctx context.Context, req platformapi.CreateWebhookRequestObject) (platformapi.CreateWebhookResponseObject, error) {
	b := req.Body
	s, err := events.CreateSubscription(ctx, h.db, events.SubscriptionFields{URL: &b.Url, Secret: b.Secret, Format: (*string)(b.Format),
		Description: b.Description, States: stringsOf(b.States), Directions: stringsOf(b.Directions), Agents: b.Agents, Active: b.Active})
	if err != nil {
		return nil, err
	}
	w := toWebhook(s)
	return platformapi.CreateWebhook201JSONResponse{Id: w.Id, Url: w.Url, Format: w.Format, Description: w.Description, States: w.States,
		Directions: w.Directions, Agents: w.Agents, Active: w.Active, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt, Secret: s.Secret}, nil
}

// ListWebhooks (GET /webhooks) answers a page of subscriptions, without secrets.
func (h *Handler) ListWebhooks(ctx context.Context, req platformapi.ListWebhooksRequestObject) (platformapi.ListWebhooksResponseObject, error) {
	page, err := events.ListSubscriptions(ctx, h.db, window(req.Params.Limit, req.Params.After))
	if err != nil {
		return nil, err
	}
	return platformapi.ListWebhooks200JSONResponse{Body: convert.Each(page.Items, toWebhook),
		Headers: platformapi.ListWebhooks200ResponseHeaders{Link: server.PageLink(ctx, page, "after")}}, nil
}

// GetWebhook (GET /webhooks/{webhook_id}).
func (h *Handler) GetWebhook(ctx context.Context, req platformapi.GetWebhookRequestObject) (platformapi.GetWebhookResponseObject, error) {
	s, err := events.GetSubscription(ctx, h.db, req.WebhookId)
	if err != nil {
		return nil, err
	}
	return platformapi.GetWebhook200JSONResponse(toWebhook(s)), nil
}

// UpdateWebhook (PATCH /webhooks/{webhook_id}) changes what the body names.
func (h *Handler) UpdateWebhook(ctx context.Context, req platformapi.UpdateWebhookRequestObject) (platformapi.UpdateWebhookResponseObject, error) {
	b := req.Body
	s, err := events.UpdateSubscription(ctx, h.db, req.WebhookId, events.SubscriptionFields{URL: b.Url, Secret: b.Secret,
		Format: (*string)(b.Format), Description: b.Description, States: stringsOf(b.States), Directions: stringsOf(b.Directions),
		Agents: b.Agents, Active: b.Active})
	if err != nil {
		return nil, err
	}
	return platformapi.UpdateWebhook200JSONResponse(toWebhook(s)), nil
}

// DeleteWebhook (DELETE /webhooks/{webhook_id}) deletes it with its delivery log.
func (h *Handler) DeleteWebhook(ctx context.Context, req platformapi.DeleteWebhookRequestObject) (platformapi.DeleteWebhookResponseObject, error) {
	if err := events.DeleteSubscription(ctx, h.db, req.WebhookId); err != nil {
		return nil, err
	}
	return platformapi.DeleteWebhook204Response{}, nil
}

// ListWebhookDeliveries (GET /webhooks/{webhook_id}/deliveries) answers a page of the delivery log.
func (h *Handler) ListWebhookDeliveries(ctx context.Context, req platformapi.ListWebhookDeliveriesRequestObject) (platformapi.ListWebhookDeliveriesResponseObject, error) {
	p := req.Params
	page, err := events.ListDeliveries(ctx, h.db, req.WebhookId, events.DeliveryFilter{Outcome: (*string)(p.Outcome), UniqueID: p.UniqueId,
		ListQuery: window(p.Limit, p.After)})
	if err != nil {
		return nil, err
	}
	return platformapi.ListWebhookDeliveries200JSONResponse{Body: convert.Each(page.Items, toWebhookDelivery),
		Headers: platformapi.ListWebhookDeliveries200ResponseHeaders{Link: server.PageLink(ctx, page, "after")}}, nil
}

// stringsOf answers a list of the contract's enum strings as plain strings (nil stays nil).
func stringsOf[T ~string](list *[]T) *[]string {
	if list == nil {
		return nil
	}
	out := make([]string, len(*list))
	for i, v := range *list {
		out[i] = string(v)
	}
	return &out
}

func enumsOf[T ~string](list []string) []T {
	out := make([]T, len(list))
	for i, v := range list {
		out[i] = T(v)
	}
	return out
}

func toWebhook(s *events.Subscription) platformapi.Webhook {
	agents := s.Agents
	if agents == nil {
		agents = []string{}
	}
	return platformapi.Webhook{Id: s.ID, Url: s.URL, Format: platformapi.WebhookFormat(s.Format), Description: s.Description,
		States: enumsOf[platformapi.CallState](s.States), Directions: enumsOf[platformapi.CallDirection](s.Directions), Agents: agents,
		Active: s.Active, CreatedAt: unixTime(s.CreatedAt), UpdatedAt: unixTime(s.UpdatedAt)}
}

func toWebhookDelivery(d *events.Delivery) platformapi.WebhookDelivery {
	out := platformapi.WebhookDelivery{Id: d.ID, WebhookId: d.WebhookID, DeliveryId: d.DeliveryID, UniqueId: d.UniqueID, State: platformapi.CallState(d.State),
		Attempt: int32(d.Attempt), Outcome: platformapi.DeliveryOutcome(d.Outcome), Error: d.Error,
		AttemptedAt: time.UnixMilli(d.AttemptedAt).UTC(), DurationMs: d.DurationMs}
	if d.StatusCode != nil {
		c := int32(*d.StatusCode)
		out.StatusCode = &c
	}
	return out
}
