package ucontact

import (
	"context"
	"time"

	"switchboard/convert"
	"switchboard/gen/ucontactapi"
	"switchboard/models"
	"switchboard/models/events"
	"switchboard/models/ucontact"
	"switchboard/server"
)

// AgentCall (POST Agents/AgentCall) records a two-step call and publishes its outbound call event (state
// ringing); it answers the call's GUID. The event's unique id is the call's Accolades-style uniqueId, and
// the GUID travels among its variables (ambiguity 33).
func (h *Handler) AgentCall(ctx context.Context, req ucontactapi.AgentCallRequestObject) (ucontactapi.AgentCallResponseObject, error) {
	b := req.Body
	if err := forSelf(ctx, b.Agent); err != nil {
		return nil, err
	}
	agent, err := ucontact.FindAgent(ctx, h.db, b.Agent)
	if err != nil {
		return nil, err
	}
	c := &ucontact.Call{Agent: agent.Name, Phone: convert.Deref(b.Phone), CallerID: convert.Deref(b.Callerid),
		Tech: convert.Deref(b.Tech), Context: convert.Deref(b.Context), Destination: b.Destination, CreatedBy: caller(ctx)}
	// The vendor's defaults for what the form leaves out: the agent's own phone and context, SIP.
	if c.Phone == "" {
		c.Phone = agent.Phone
	}
	if c.Context == "" {
		c.Context = agent.Context
	}
	if c.Tech == "" {
		c.Tech = "SIP"
	}
	if q := convert.Deref(b.Outqueue); q != "" {
		camp, err := ucontact.FindCampaign(ctx, h.db, q, ucontact.ChannelTelephony)
		if err != nil {
			return nil, err
		}
		c.CampaignID, c.Campaign = camp.ID, camp.Name
		if c.CallerID == "" {
			c.CallerID = camp.CallerID
		}
	}
	if err := ucontact.CreateAgentCall(ctx, h.db, c); err != nil {
		return nil, err
	}
	if err := h.publish(ctx, c, events.Ringing); err != nil {
		return nil, err
	}
	return ucontactapi.AgentCall200TextResponse(c.GUID), nil
}

// publish publishes a call's event of the given state (nothing when no publisher is configured).
func (h *Handler) publish(ctx context.Context, c *ucontact.Call, state string) error {
	if h.events == nil {
		return nil
	}
	vars := c.Variables()
	if c.CallerID != "" {
		vars["callerid"] = c.CallerID
	}
	_, _, err := h.events.Publish(ctx, events.CallEvent{UniqueID: c.UniqueID(), Direction: events.Outbound,
		Phone: c.Destination, Agent: c.Agent, State: state, Source: "ucontact", Variables: vars, ReceivedAt: time.Now()})
	return err
}

// DispositionCall (POST api/DispositionCall) stores every field of the disposition, linked to the call its
// guid names; a schedule with a callerid also queues the reschedule in the same transaction.
func (h *Handler) DispositionCall(ctx context.Context, req ucontactapi.DispositionCallRequestObject) (ucontactapi.DispositionCallResponseObject, error) {
	b := req.Body
	d := &ucontact.Disposition{UserID: caller(ctx), Campaign: convert.Deref(b.Campaign), Agent: convert.Deref(b.Agent),
		CallerID: convert.Deref(b.Callerid), GUID: convert.Deref(b.Guid), L1: b.L1, L2: convert.Deref(b.L2), L3: convert.Deref(b.L3),
		D1: convert.Deref(b.D1), D2: convert.Deref(b.D2), Comment: convert.Deref(b.Comment), Schedule: convert.Deref(b.Schedule),
		CampToReschedule: convert.Deref(b.Camptoreschedule), Tag: convert.Deref(b.Tag)}
	var r *ucontact.Reschedule
	if d.Schedule != "" && d.CallerID != "" {
		at, err := h.callDate(d.Schedule, "schedule")
		if err != nil {
			return nil, err
		}
		name := d.CampToReschedule
		if name == "" {
			name = d.Campaign
		}
		camp, err := ucontact.FindCampaign(ctx, h.db, name, ucontact.ChannelTelephony)
		if err != nil {
			return nil, err
		}
		if !phoneNumber.MatchString(d.CallerID) {
			return nil, models.Errorf(models.Invalid, "callerid %q is not a number to reschedule (digits, an optional leading +)", d.CallerID)
		}
		r = &ucontact.Reschedule{Campaign: camp, Enqueue: h.enqueueCalls, Call: ucontact.Call{Origin: ucontact.OriginReschedule,
			Agent: d.Agent, Destination: d.CallerID, CallDate: at, CallerID: camp.CallerID, CreatedBy: d.UserID}}
	}
	if err := ucontact.CreateDisposition(ctx, h.db, d, r); err != nil {
		return nil, err
	}
	return ucontactapi.DispositionCall200TextResponse("1"), nil
}

// ListDispositions (GET api/Dispositions) answers a page of stored dispositions in id order.
func (h *Handler) ListDispositions(ctx context.Context, req ucontactapi.ListDispositionsRequestObject) (ucontactapi.ListDispositionsResponseObject, error) {
	p := req.Params
	page, err := ucontact.ListDispositions(ctx, h.db, ucontact.DispositionFilter{Campaign: p.Campaign, Agent: p.Agent, GUID: p.Guid,
		ListQuery: models.ListQuery{Limit: convert.Deref(p.Limit), Offset: int64(convert.Deref(p.Offset)), After: p.After, Count: convert.Deref(p.Count)}})
	if err != nil {
		return nil, err
	}
	headers := ucontactapi.ListDispositions200ResponseHeaders{Link: server.PageLink(ctx, page, cursorOf(p.After))}
	if page.Total != nil {
		n := int(*page.Total)
		headers.XTotalCount = &n
	}
	return ucontactapi.ListDispositions200JSONResponse{Body: convert.Each(page.Items, toDisposition), Headers: headers}, nil
}

// cursorOf: a request that pages by keyset gets its next page by keyset; one that pages by offset, by offset.
func cursorOf(after *int64) string {
	if after != nil {
		return "after"
	}
	return ""
}

func toDisposition(d *ucontact.Disposition) ucontactapi.Disposition {
	out := ucontactapi.Disposition{Id: d.ID, Date: time.Unix(d.CreatedAt, 0).UTC(), Campaign: d.Campaign, Agent: d.Agent,
		Callerid: d.CallerID, Guid: d.GUID, L1: d.L1, L2: d.L2, L3: d.L3, D1: d.D1, D2: d.D2, Comment: d.Comment,
		Schedule: d.Schedule, Camptoreschedule: d.CampToReschedule, Tag: d.Tag}
	if d.UniqueID != "" {
		out.UniqueId = &d.UniqueID
	}
	return out
}
