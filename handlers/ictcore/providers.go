package ictcore

import (
	"context"

	"switchboard/convert"
	"switchboard/gateway"
	"switchboard/gen/ictcoreapi"
	"switchboard/models/ictcore"
	"switchboard/server"
)

// Providers (admin-only in the permission table). A provider's settings are checked by building its
// gateway, so a provider that could never deliver (an http one without a URL, settings that are not the
// JSON object its type reads) is refused at once with the validation error instead of failing sends later.

func (h *Handler) CreateProvider(ctx context.Context, req ictcoreapi.CreateProviderRequestObject) (ictcoreapi.CreateProviderResponseObject, error) {
	in := req.Body
	p := &ictcore.Provider{Name: in.Name, Type: string(in.Type), ServiceFlag: convert.Deref(in.ServiceFlag), NodeID: 1,
		Host: convert.Deref(in.Host), Port: convert.Deref(in.Port), Username: convert.Deref(in.Username), Password: convert.Deref(in.Password),
		Dialstring: convert.Deref(in.Dialstring), Prefix: convert.Deref(in.Prefix), Settings: convert.Deref(in.Settings),
		Description: convert.Deref(in.Description), Register: int(convert.Deref(in.Register)), Weight: convert.Deref(in.Weight), Active: 1}
	set(&p.NodeID, in.NodeId)
	if in.GatewayFlag != nil {
		p.GatewayFlag = int(*in.GatewayFlag)
	}
	if in.Active != nil {
		p.Active = int(*in.Active)
	}
	if err := checkGateway(p); err != nil {
		return nil, err
	}
	if err := ictcore.CreateProvider(ctx, h.db, p); err != nil {
		return nil, err
	}
	return ictcoreapi.CreateProvider200JSONResponse(idAnswer[ictcoreapi.ProviderCreated](h.bareIDs, "provider_id", p.ID)), nil
}

func (h *Handler) ListProviders(ctx context.Context, req ictcoreapi.ListProvidersRequestObject) (ictcoreapi.ListProvidersResponseObject, error) {
	p := req.Params
	f := ictcore.ProviderFilter{ID: p.ProviderId, NodeID: p.NodeId, Name: p.Name, Host: p.Host, ServiceFlag: p.ServiceFlag,
		ListQuery: pageQuery(p.Limit, p.Offset, p.Count)}
	if p.Type != nil {
		t := string(*p.Type)
		f.Type = &t
	}
	if p.Active != nil {
		a := int(*p.Active)
		f.Active = &a
	}
	page, err := ictcore.ListProviders(ctx, h.db, f)
	if err != nil {
		return nil, err
	}
	out := convert.Each(page.Items, toAPIProvider)
	return ictcoreapi.ListProviders200JSONResponse{Body: out, Headers: ictcoreapi.ListProviders200ResponseHeaders{
		XTotalCount: totalHeader(page.Total), Link: server.PageLink(ctx, page, "")}}, nil
}

func (h *Handler) GetProvider(ctx context.Context, req ictcoreapi.GetProviderRequestObject) (ictcoreapi.GetProviderResponseObject, error) {
	p, err := ictcore.GetProvider(ctx, h.db, req.ProviderId)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.GetProvider200JSONResponse(toAPIProvider(p)), nil
}

func (h *Handler) UpdateProvider(ctx context.Context, req ictcoreapi.UpdateProviderRequestObject) (ictcoreapi.UpdateProviderResponseObject, error) {
	in := req.Body
	p, err := ictcore.UpdateProvider(ctx, h.db, req.ProviderId, func(p *ictcore.Provider) error {
		set(&p.Name, in.Name)
		if in.Type != nil {
			p.Type = string(*in.Type)
		}
		set(&p.ServiceFlag, in.ServiceFlag)
		if in.GatewayFlag != nil {
			p.GatewayFlag = int(*in.GatewayFlag)
		}
		set(&p.NodeID, in.NodeId)
		set(&p.Host, in.Host)
		set(&p.Port, in.Port)
		set(&p.Username, in.Username)
		set(&p.Password, in.Password)
		set(&p.Dialstring, in.Dialstring)
		set(&p.Prefix, in.Prefix)
		set(&p.Settings, in.Settings)
		set(&p.Description, in.Description)
		set(&p.Weight, in.Weight)
		if in.Register != nil {
			p.Register = int(*in.Register)
		}
		if in.Active != nil {
			p.Active = int(*in.Active)
		}
		return checkGateway(p)
	})
	if err != nil {
		return nil, err
	}
	return ictcoreapi.UpdateProvider200JSONResponse(toAPIProvider(p)), nil
}

func (h *Handler) DeleteProvider(ctx context.Context, req ictcoreapi.DeleteProviderRequestObject) (ictcoreapi.DeleteProviderResponseObject, error) {
	if err := ictcore.DeleteProvider(ctx, h.db, req.ProviderId); err != nil {
		return nil, err
	}
	return ictcoreapi.DeleteProvider200JSONResponse(true), nil
}

// checkGateway builds the provider's gateway and answers why it cannot be built (an Invalid error).
func checkGateway(p *ictcore.Provider) error {
	_, err := gateway.FromProvider(providerConfig(p), checkSimulator)
	return err
}

// checkSimulator stands in for the delivery simulator when a provider is only checked.
var checkSimulator, _ = gateway.NewSimulator(gateway.SimConfig{})

func providerConfig(p *ictcore.Provider) gateway.ProviderConfig {
	return gateway.ProviderConfig{Type: p.Type, Host: p.Host, Port: p.Port, Username: p.Username,
		Password: p.Password, Prefix: p.Prefix, Settings: p.Settings}
}

// toAPIProvider answers a provider without its password.
func toAPIProvider(p *ictcore.Provider) ictcoreapi.Provider {
	reg := ictcoreapi.ProviderRegister(p.Register)
	var gw *ictcoreapi.ProviderGatewayFlag
	if p.GatewayFlag != 0 {
		f := ictcoreapi.ProviderGatewayFlag(p.GatewayFlag)
		gw = &f
	}
	return ictcoreapi.Provider{ProviderId: p.ID, Name: p.Name, Type: ictcoreapi.ProviderType(p.Type),
		ServiceFlag: &p.ServiceFlag, GatewayFlag: gw, NodeId: &p.NodeID, Host: &p.Host, Port: portOrNil(p.Port), Username: &p.Username,
		Dialstring: &p.Dialstring, Prefix: &p.Prefix, Settings: &p.Settings, Description: &p.Description,
		Register: &reg, Weight: &p.Weight, Active: ictcoreapi.ProviderActive(p.Active)}
}

// portOrNil leaves an unset port (0) out: the contract's port is 1–65535.
func portOrNil(port int) *int {
	if port == 0 {
		return nil
	}
	return &port
}
