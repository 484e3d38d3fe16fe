package platform

import (
	"context"

	"switchboard/convert"
	"switchboard/gen/platformapi"
	"switchboard/models/platform"
	"switchboard/server"
)

// CreateApiKey (POST /api-keys) answers the new key, this once.
func (h *Handler) CreateApiKey(ctx context.Context, req platformapi.CreateApiKeyRequestObject) (platformapi.CreateApiKeyResponseObject, error) {
	k, key, err := platform.CreateAPIKey(ctx, h.db, req.Body.Name, string(req.Body.Scope))
	if err != nil {
		return nil, err
	}
	m := toAPIKey(k)
	return platformapi.CreateApiKey201JSONResponse{Id: m.Id, Name: m.Name, Scope: m.Scope, Prefix: m.Prefix,
		CreatedAt: m.CreatedAt, LastUsedAt: m.LastUsedAt, RevokedAt: m.RevokedAt, Key: key}, nil
}

// ListApiKeys (GET /api-keys) answers a page of keys, without secrets.
func (h *Handler) ListApiKeys(ctx context.Context, req platformapi.ListApiKeysRequestObject) (platformapi.ListApiKeysResponseObject, error) {
	page, err := platform.ListAPIKeys(ctx, h.db, window(req.Params.Limit, req.Params.After))
	if err != nil {
		return nil, err
	}
	return platformapi.ListApiKeys200JSONResponse{Body: convert.Each(page.Items, toAPIKey),
		Headers: platformapi.ListApiKeys200ResponseHeaders{Link: server.PageLink(ctx, page, "after")}}, nil
}

// RevokeApiKey (DELETE /api-keys/{key_id}): the next request with the key answers 401.
func (h *Handler) RevokeApiKey(ctx context.Context, req platformapi.RevokeApiKeyRequestObject) (platformapi.RevokeApiKeyResponseObject, error) {
	if err := platform.RevokeAPIKey(ctx, h.db, req.KeyId); err != nil {
		return nil, err
	}
	return platformapi.RevokeApiKey204Response{}, nil
}
