package platform

import (
	"context"

	"switchboard/convert"
	"switchboard/gen/platformapi"
	"switchboard/models/ucontact"
	"switchboard/server"
)

// The uContact administration: the supervisors and agents who log in to the uContact API, and the
// campaigns its services name.

// CreateUContactUser (POST /ucontact-users) stores a supervisor or an agent.
func (h *Handler) CreateUContactUser(ctx context.Context, req platformapi.CreateUContactUserRequestObject) (platformapi.CreateUContactUserResponseObject, error) {
	b := req.Body
	u, err := ucontact.CreateUser(ctx, h.db, ucontact.UserInput{Name: b.Name, Role: string(b.Role), Password: b.Password,
		Fullname: convert.Deref(b.Fullname), Email: convert.Deref(b.Email), Phone: convert.Deref(b.Phone), Context: convert.Deref(b.Context)})
	if err != nil {
		return nil, err
	}
	return platformapi.CreateUContactUser201JSONResponse(toUContactUser(u)), nil
}

// ListUContactUsers (GET /ucontact-users) answers a page of users, of one role when asked.
func (h *Handler) ListUContactUsers(ctx context.Context, req platformapi.ListUContactUsersRequestObject) (platformapi.ListUContactUsersResponseObject, error) {
	var role *string
	if r := req.Params.Role; r != nil {
		s := string(*r)
		role = &s
	}
	page, err := ucontact.ListUsers(ctx, h.db, role, window(req.Params.Limit, req.Params.After))
	if err != nil {
		return nil, err
	}
	return platformapi.ListUContactUsers200JSONResponse{Body: convert.Each(page.Items, toUContactUser),
		Headers: platformapi.ListUContactUsers200ResponseHeaders{Link: server.PageLink(ctx, page, "after")}}, nil
}

// GetUContactUser (GET /ucontact-users/{ucontact_user_id}).
func (h *Handler) GetUContactUser(ctx context.Context, req platformapi.GetUContactUserRequestObject) (platformapi.GetUContactUserResponseObject, error) {
	u, err := ucontact.GetUser(ctx, h.db, req.UcontactUserId)
	if err != nil {
		return nil, err
	}
	return platformapi.GetUContactUser200JSONResponse(toUContactUser(u)), nil
}

// DeleteUContactUser (DELETE /ucontact-users/{ucontact_user_id}) deletes the user and ends its sessions.
func (h *Handler) DeleteUContactUser(ctx context.Context, req platformapi.DeleteUContactUserRequestObject) (platformapi.DeleteUContactUserResponseObject, error) {
	if err := ucontact.DeleteUser(ctx, h.db, req.UcontactUserId); err != nil {
		return nil, err
	}
	return platformapi.DeleteUContactUser204Response{}, nil
}

// CreateUContactCampaign (POST /ucontact-campaigns) stores a campaign (telephony unless said otherwise).
func (h *Handler) CreateUContactCampaign(ctx context.Context, req platformapi.CreateUContactCampaignRequestObject) (platformapi.CreateUContactCampaignResponseObject, error) {
	b := req.Body
	var channel string
	if b.Channel != nil {
		channel = string(*b.Channel)
	}
	c, err := ucontact.CreateCampaign(ctx, h.db, b.Name, channel, convert.Deref(b.Callerid))
	if err != nil {
		return nil, err
	}
	return platformapi.CreateUContactCampaign201JSONResponse(toUContactCampaign(c)), nil
}

// ListUContactCampaigns (GET /ucontact-campaigns) answers a page of campaigns.
func (h *Handler) ListUContactCampaigns(ctx context.Context, req platformapi.ListUContactCampaignsRequestObject) (platformapi.ListUContactCampaignsResponseObject, error) {
	page, err := ucontact.ListCampaigns(ctx, h.db, window(req.Params.Limit, req.Params.After))
	if err != nil {
		return nil, err
	}
	return platformapi.ListUContactCampaigns200JSONResponse{Body: convert.Each(page.Items, toUContactCampaign),
		Headers: platformapi.ListUContactCampaigns200ResponseHeaders{Link: server.PageLink(ctx, page, "after")}}, nil
}

// DeleteUContactCampaign (DELETE /ucontact-campaigns/{ucontact_campaign_id}) deletes the campaign and
// cancels its calls and SMS still waiting for the dialer.
func (h *Handler) DeleteUContactCampaign(ctx context.Context, req platformapi.DeleteUContactCampaignRequestObject) (platformapi.DeleteUContactCampaignResponseObject, error) {
	if err := ucontact.DeleteCampaign(ctx, h.db, req.UcontactCampaignId); err != nil {
		return nil, err
	}
	return platformapi.DeleteUContactCampaign204Response{}, nil
}

func toUContactUser(u *ucontact.User) platformapi.UContactUser {
	return platformapi.UContactUser{Id: u.ID, Name: u.Name, Role: platformapi.UContactRole(u.Role), Fullname: u.Fullname,
		Email: u.Email, Phone: u.Phone, Context: u.Context, LoggedIn: u.LoggedIn, CreatedAt: unixTime(u.CreatedAt)}
}

func toUContactCampaign(c *ucontact.Campaign) platformapi.UContactCampaign {
	return platformapi.UContactCampaign{Id: c.ID, Name: c.Name, Channel: platformapi.UContactChannel(c.Channel),
		Callerid: c.CallerID, CreatedAt: unixTime(c.CreatedAt)}
}
