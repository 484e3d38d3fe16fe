package platform

import (
	"time"

	"switchboard/convert"
	"switchboard/gen/platformapi"
	"switchboard/models"
	"switchboard/models/platform"
)

// The store keeps unix seconds; the contract answers RFC 3339 times in UTC.
func unixTime(s int64) time.Time { return time.Unix(s, 0).UTC() }

func unixTimePtr(s *int64) *time.Time {
	if s == nil {
		return nil
	}
	t := unixTime(*s)
	return &t
}

func toAPIKey(k *platform.APIKey) platformapi.ApiKey {
	return platformapi.ApiKey{Id: k.ID, Name: k.Name, Scope: platformapi.ApiKeyScope(k.Scope), Prefix: k.Prefix,
		CreatedAt: unixTime(k.CreatedAt), LastUsedAt: unixTimePtr(k.LastUsedAt), RevokedAt: unixTimePtr(k.RevokedAt)}
}

func toDncList(l *platform.DNCList) platformapi.DncList {
	ids := l.CampaignIDs
	if ids == nil {
		ids = []int64{}
	}
	return platformapi.DncList{Id: l.ID, Name: l.Name, Description: l.Description, Global: l.Global, CampaignIds: ids,
		CreatedAt: unixTime(l.CreatedAt), UpdatedAt: unixTime(l.UpdatedAt)}
}

func toDncNumber(n *platform.Number) platformapi.DncNumber {
	return platformapi.DncNumber{Number: n.Number, CreatedAt: unixTime(n.CreatedAt)}
}

func toListRef(r *platform.ListRef) platformapi.DncListRef {
	return platformapi.DncListRef{Id: r.ID, Name: r.Name, Global: r.Global}
}

// window is a page's window from the contract's limit and after (nil limit: the default).
func window(limit *int, after *int64) models.ListQuery {
	return models.ListQuery{Limit: convert.Deref(limit), After: after}
}
