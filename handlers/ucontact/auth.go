package ucontact

import (
	"context"

	"switchboard/convert"
	"switchboard/gen/ucontactapi"
	"switchboard/models/ucontact"
	"switchboard/server"
)

// UserLogin (POST auth/UserLogin) logs a supervisor in and answers the list whose last item is the new
// API key, after the phone's peer when the supervisor has a phone (ambiguity 29).
func (h *Handler) UserLogin(ctx context.Context, req ucontactapi.UserLoginRequestObject) (ucontactapi.UserLoginResponseObject, error) {
	list, err := h.userLogin(ctx, req.Body.User, req.Body.Password)
	if err != nil {
		return nil, err
	}
	return ucontactapi.UserLogin200JSONResponse(list), nil
}

// GetUserToken (POST auth/getUserToken) is UserLogin under its current name.
func (h *Handler) GetUserToken(ctx context.Context, req ucontactapi.GetUserTokenRequestObject) (ucontactapi.GetUserTokenResponseObject, error) {
	list, err := h.userLogin(ctx, req.Body.User, req.Body.Password)
	if err != nil {
		return nil, err
	}
	return ucontactapi.GetUserToken200JSONResponse(list), nil
}

func (h *Handler) userLogin(ctx context.Context, name, password string) (ucontactapi.UserLoginList, error) {
	u, key, err := h.sessions.Login(ctx, name, password, server.ClientAddr(ctx), ucontact.RoleSupervisor)
	if err != nil {
		return nil, err
	}
	var list ucontactapi.UserLoginList
	if u.Phone != "" {
		var item ucontactapi.UserLoginItem
		if err := item.FromUContactPeer(peer(u, key)); err != nil {
			return nil, err
		}
		list = append(list, item)
	}
	var last ucontactapi.UserLoginItem
	if err := last.FromApiKey(key); err != nil {
		return nil, err
	}
	return append(list, last), nil
}

// AgentLogin (POST auth/AgentLogin) logs an agent in and answers its peer, whose md5secret is the new key.
func (h *Handler) AgentLogin(ctx context.Context, req ucontactapi.AgentLoginRequestObject) (ucontactapi.AgentLoginResponseObject, error) {
	u, key, err := h.sessions.Login(ctx, req.Body.Agent, req.Body.Password, server.ClientAddr(ctx), ucontact.RoleAgent)
	if err != nil {
		return nil, err
	}
	return ucontactapi.AgentLogin200JSONResponse(peer(u, key)), nil
}

// EndSession (POST auth/EndSession) disables the key named in `token`, which must be `user`'s.
func (h *Handler) EndSession(ctx context.Context, req ucontactapi.EndSessionRequestObject) (ucontactapi.EndSessionResponseObject, error) {
	if err := h.sessions.EndSession(ctx, req.Body.User, req.Body.Token); err != nil {
		return nil, err
	}
	return ucontactapi.EndSession200TextResponse("1"), nil
}

// AgentLogoff (POST api/AgentLogoff) marks the agent logged off, with its interface and message.
func (h *Handler) AgentLogoff(ctx context.Context, req ucontactapi.AgentLogoffRequestObject) (ucontactapi.AgentLogoffResponseObject, error) {
	b := req.Body
	if err := forSelf(ctx, b.Agent); err != nil {
		return nil, err
	}
	if err := ucontact.AgentLogoff(ctx, h.db, b.Agent, convert.Deref(b.Interface), convert.Deref(b.Message)); err != nil {
		return nil, err
	}
	return ucontactapi.AgentLogoff200TextResponse("1"), nil
}

// peer answers u's SIP peer as AgentLogin shows one: what the store knows, the vendor's example values
// for the SIP settings Switchboard has no use for, an empty secret, and the key as md5secret.
func peer(u *ucontact.User, key string) ucontactapi.UContactPeer {
	phone := u.Phone
	if phone == "" {
		phone = u.Name
	}
	s := func(v string) *string { return &v }
	limite := 0.0
	return ucontactapi.UContactPeer{Id: u.ID, Name: u.Name, Md5secret: key,
		Host: s(""), Nat: s("yes"), Type: s("friend"), Accountcode: s(u.Name), Callgroup: s(""), Callerid: s(phone),
		Canreinvite: s(""), Context: s(u.Context), Dtmfmode: s("rfc2833"), Insecure: s(""), Language: s("en"),
		Mailbox: s(""), Pickupgroup: s(""), Qualify: s("yes"), Secret: s(""), Disallow: s("all"), Allow: s("alaw;ulaw"),
		Port: s(""), Defaultuser: s(phone), Subscribecontext: s("default"), Record: s("agent"), Email: s(u.Email),
		Phonetype: s("SoftPhone"), LogLevel: s("SEVERE"), Limite: &limite, Transport: s("wss"), Encryption: s("yes"),
		Did: s(""), Outboundproxy: s(""), Fullname: s(u.Fullname)}
}
