package platform

import (
	"context"

	"switchboard/convert"
	"switchboard/gen/platformapi"
	"switchboard/models/accolades"
	"switchboard/server"
)

// The Accolades administration (R30): accounts of the REST API and their agents, whose CRM ids open the
// /accolades WebSocket. Every agent operation is scoped by the account of its path, so an agent id of
// another account answers 404.

// CreateAccoladesAccount (POST /accolades-accounts) stores an account with its API password's hash.
func (h *Handler) CreateAccoladesAccount(ctx context.Context, req platformapi.CreateAccoladesAccountRequestObject) (platformapi.CreateAccoladesAccountResponseObject, error) {
	b := req.Body
	a, err := accolades.CreateAccount(ctx, h.db, accolades.AccountInput{AccountNumber: b.AccountNumber, Name: convert.Deref(b.Name),
		Password: b.Password, Data: convert.Deref(b.Data)})
	if err != nil {
		return nil, err
	}
	return platformapi.CreateAccoladesAccount201JSONResponse(toAccoladesAccount(a)), nil
}

// ListAccoladesAccounts (GET /accolades-accounts) answers a page of accounts.
func (h *Handler) ListAccoladesAccounts(ctx context.Context, req platformapi.ListAccoladesAccountsRequestObject) (platformapi.ListAccoladesAccountsResponseObject, error) {
	page, err := accolades.ListAccounts(ctx, h.db, window(req.Params.Limit, req.Params.After))
	if err != nil {
		return nil, err
	}
	return platformapi.ListAccoladesAccounts200JSONResponse{Body: convert.Each(page.Items, toAccoladesAccount),
		Headers: platformapi.ListAccoladesAccounts200ResponseHeaders{Link: server.PageLink(ctx, page, "after")}}, nil
}

// GetAccoladesAccount (GET /accolades-accounts/{account_id}).
func (h *Handler) GetAccoladesAccount(ctx context.Context, req platformapi.GetAccoladesAccountRequestObject) (platformapi.GetAccoladesAccountResponseObject, error) {
	a, err := accolades.GetAccount(ctx, h.db, req.AccountId)
	if err != nil {
		return nil, err
	}
	return platformapi.GetAccoladesAccount200JSONResponse(toAccoladesAccount(a)), nil
}

// DeleteAccoladesAccount (DELETE /accolades-accounts/{account_id}): only an account without agents (else 409).
func (h *Handler) DeleteAccoladesAccount(ctx context.Context, req platformapi.DeleteAccoladesAccountRequestObject) (platformapi.DeleteAccoladesAccountResponseObject, error) {
	if err := accolades.DeleteAccount(ctx, h.db, req.AccountId); err != nil {
		return nil, err
	}
	return platformapi.DeleteAccoladesAccount204Response{}, nil
}

// CreateAccoladesAgent (POST /accolades-accounts/{account_id}/agents) answers the agent with its new CRM id.
func (h *Handler) CreateAccoladesAgent(ctx context.Context, req platformapi.CreateAccoladesAgentRequestObject) (platformapi.CreateAccoladesAgentResponseObject, error) {
	b := req.Body
	a, err := accolades.CreateAgent(ctx, h.db, req.AccountId, accolades.AgentInput{Name: b.Name, DeviceID: b.DeviceId,
		AllowedIPs: convert.Deref(b.AllowedIps), Data: convert.Deref(b.Data), PhoneData: convert.Deref(b.PhoneData)})
	if err != nil {
		return nil, err
	}
	return platformapi.CreateAccoladesAgent201JSONResponse(toAccoladesAgent(a)), nil
}

// ListAccoladesAgents (GET /accolades-accounts/{account_id}/agents): an account that does not exist is a
// 404, not an empty list.
func (h *Handler) ListAccoladesAgents(ctx context.Context, req platformapi.ListAccoladesAgentsRequestObject) (platformapi.ListAccoladesAgentsResponseObject, error) {
	page, err := accolades.ListAgents(ctx, h.db, req.AccountId, window(req.Params.Limit, req.Params.After))
	if err != nil {
		return nil, err
	}
	return platformapi.ListAccoladesAgents200JSONResponse{Body: convert.Each(page.Items, toAccoladesAgent),
		Headers: platformapi.ListAccoladesAgents200ResponseHeaders{Link: server.PageLink(ctx, page, "after")}}, nil
}

// GetAccoladesAgent (GET /accolades-accounts/{account_id}/agents/{agent_id}).
func (h *Handler) GetAccoladesAgent(ctx context.Context, req platformapi.GetAccoladesAgentRequestObject) (platformapi.GetAccoladesAgentResponseObject, error) {
	a, err := accolades.GetAgent(ctx, h.db, req.AccountId, req.AgentId)
	if err != nil {
		return nil, err
	}
	return platformapi.GetAccoladesAgent200JSONResponse(toAccoladesAgent(a)), nil
}

// DeleteAccoladesAgent (DELETE /accolades-accounts/{account_id}/agents/{agent_id}) deletes the agent and its
// lease; the node holding its connection closes it at its next heartbeat.
func (h *Handler) DeleteAccoladesAgent(ctx context.Context, req platformapi.DeleteAccoladesAgentRequestObject) (platformapi.DeleteAccoladesAgentResponseObject, error) {
	if err := accolades.DeleteAgent(ctx, h.db, req.AccountId, req.AgentId); err != nil {
		return nil, err
	}
	return platformapi.DeleteAccoladesAgent204Response{}, nil
}

func toAccoladesAccount(a *accolades.Account) platformapi.AccoladesAccount {
	return platformapi.AccoladesAccount{Id: a.ID, AccountNumber: a.AccountNumber, Name: a.Name, Data: a.Data, CreatedAt: unixTime(a.CreatedAt)}
}

func toAccoladesAgent(a *accolades.Agent) platformapi.AccoladesAgent {
	ips := a.IPs()
	if ips == nil {
		ips = []string{}
	}
	return platformapi.AccoladesAgent{Id: a.ID, AccountId: a.AccountID, Name: a.Name, CrmId: a.CrmID, DeviceId: a.DeviceID,
		AllowedIps: ips, Data: a.Data, PhoneData: a.PhoneData, CreatedAt: unixTime(a.CreatedAt)}
}
