package ictcore

import (
	"context"

	"switchboard/auth"
	"switchboard/convert"
	"switchboard/gen/ictcoreapi"
	"switchboard/models"
	"switchboard/models/ictcore"
	"switchboard/server"
)

// Campaigns: CRUD here, start, stop and their schedules through the Dialer (the dialer package), which
// runs them on the job queue. A user who is not an admin sees and changes only its own (ownerOf).

// Dialer starts, stops and schedules campaigns (dialer.Service).
type Dialer interface {
	Start(ctx context.Context, o ictcore.Owner, id int64) error
	Stop(ctx context.Context, o ictcore.Owner, id int64) error
	Update(ctx context.Context, o ictcore.Owner, id int64, f ictcore.CampaignFields) (*ictcore.Campaign, error)
	Schedule(ctx context.Context, o ictcore.Owner, id int64, action string, w ictcore.When) (int64, error)
	Unschedule(ctx context.Context, o ictcore.Owner, id int64) error
}

var errNoDialer = models.Errorf(models.Busy, "the dialer is not running")

func (h *Handler) dialerOrBusy() (Dialer, error) {
	if h.dialer == nil {
		return nil, errNoDialer
	}
	return h.dialer, nil
}

// callingFields reads a calling window: {} removes it.
func callingFields(f *ictcore.CampaignFields, in *ictcoreapi.CallingHours) {
	switch {
	case in == nil:
	case in.From == nil && in.To == nil && in.Weekdays == nil:
		f.ClearCalling = true
	default:
		f.Calling = &ictcore.CallingHours{From: convert.Deref(in.From), To: convert.Deref(in.To), Weekdays: convert.Deref(in.Weekdays)}
	}
}

func toAPICalling(c *ictcore.Campaign) *ictcoreapi.CallingHours {
	w := c.CallingHours()
	if w == nil {
		return nil
	}
	out := &ictcoreapi.CallingHours{From: &w.From, To: &w.To}
	if w.Weekdays != "" {
		out.Weekdays = &w.Weekdays
	}
	return out
}

func toAPICampaign(c *ictcore.Campaign) ictcoreapi.Campaign {
	return ictcoreapi.Campaign{CampaignId: c.ID, ProgramId: c.ProgramID, GroupId: c.GroupID, AccountId: c.AccountID,
		Cpm: c.Cpm, TryAllowed: c.TryAllowed, Status: ictcoreapi.CampaignStatus(c.Status), Reason: &c.Reason,
		ContactTotal: int(c.ContactTotal), ContactDone: int(c.ContactDone), LastRun: c.LastRun, UserId: c.UserID,
		ContactPending: ptr(int(c.ContactTotal - c.ContactDone)), ContactCompleted: ptr(int(c.ContactEnded - c.ContactFailed)),
		ContactFailed: ptr(int(c.ContactFailed)), CallingHours: toAPICalling(c)}
}

// CreateCampaign (POST /campaigns).
func (h *Handler) CreateCampaign(ctx context.Context, req ictcoreapi.CreateCampaignRequestObject) (ictcoreapi.CreateCampaignResponseObject, error) {
	b := req.Body
	f := ictcore.CampaignFields{ProgramID: b.ProgramId, GroupID: b.GroupId, AccountID: b.AccountId, Cpm: b.Cpm, TryAllowed: b.TryAllowed}
	callingFields(&f, b.CallingHours)
	c, err := ictcore.CreateCampaign(ctx, h.db, ownerOf(ctx), auth.PrincipalFrom(ctx).UserID, f)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.CreateCampaign200JSONResponse(idAnswer[ictcoreapi.CampaignCreated](h.bareIDs, "campaign_id", c.ID)), nil
}

// ListCampaigns (GET /campaigns).
func (h *Handler) ListCampaigns(ctx context.Context, req ictcoreapi.ListCampaignsRequestObject) (ictcoreapi.ListCampaignsResponseObject, error) {
	p := req.Params
	page, err := ictcore.ListCampaigns(ctx, h.db, ownerOf(ctx), ictcore.CampaignFilter{ID: p.CampaignId, ProgramID: p.ProgramId,
		GroupID: p.GroupId, UserID: firstSet(p.UserId, p.CreatedBy), Status: (*string)(p.Status), Before: p.Before, After: p.After,
		ListQuery: listQuery(p.Limit, p.Offset, nil, p.Count)})
	if err != nil {
		return nil, err
	}
	return ictcoreapi.ListCampaigns200JSONResponse{Body: convert.Each(page.Items, toAPICampaign), Headers: ictcoreapi.ListCampaigns200ResponseHeaders{
		XTotalCount: page.Total, Link: server.PageLink(ctx, page, ""),
	}}, nil
}

// GetCampaign (GET /campaigns/{campaign_id}).
func (h *Handler) GetCampaign(ctx context.Context, req ictcoreapi.GetCampaignRequestObject) (ictcoreapi.GetCampaignResponseObject, error) {
	c, err := ictcore.GetCampaign(ctx, h.db, ownerOf(ctx), req.CampaignId)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.GetCampaign200JSONResponse(toAPICampaign(c)), nil
}

// UpdateCampaign (PUT /campaigns/{campaign_id}): only the fields sent change; a running campaign takes
// them at its next tick.
func (h *Handler) UpdateCampaign(ctx context.Context, req ictcoreapi.UpdateCampaignRequestObject) (ictcoreapi.UpdateCampaignResponseObject, error) {
	d, err := h.dialerOrBusy()
	if err != nil {
		return nil, err
	}
	b := req.Body
	f := ictcore.CampaignFields{ProgramID: b.ProgramId, GroupID: b.GroupId, AccountID: b.AccountId, Cpm: b.Cpm, TryAllowed: b.TryAllowed}
	callingFields(&f, b.CallingHours)
	c, err := d.Update(ctx, ownerOf(ctx), req.CampaignId, f)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.UpdateCampaign200JSONResponse(toAPICampaign(c)), nil
}

// DeleteCampaign (DELETE /campaigns/{campaign_id}).
func (h *Handler) DeleteCampaign(ctx context.Context, req ictcoreapi.DeleteCampaignRequestObject) (ictcoreapi.DeleteCampaignResponseObject, error) {
	if err := ictcore.DeleteCampaign(ctx, h.db, ownerOf(ctx), req.CampaignId); err != nil {
		return nil, err
	}
	return ictcoreapi.DeleteCampaign200JSONResponse(true), nil
}

// StartCampaign (PUT /campaigns/{campaign_id}/start).
func (h *Handler) StartCampaign(ctx context.Context, req ictcoreapi.StartCampaignRequestObject) (ictcoreapi.StartCampaignResponseObject, error) {
	d, err := h.dialerOrBusy()
	if err != nil {
		return nil, err
	}
	if err := d.Start(ctx, ownerOf(ctx), req.CampaignId); err != nil {
		return nil, err
	}
	return ictcoreapi.StartCampaign200JSONResponse(true), nil
}

// StopCampaign (PUT /campaigns/{campaign_id}/stop).
func (h *Handler) StopCampaign(ctx context.Context, req ictcoreapi.StopCampaignRequestObject) (ictcoreapi.StopCampaignResponseObject, error) {
	d, err := h.dialerOrBusy()
	if err != nil {
		return nil, err
	}
	if err := d.Stop(ctx, ownerOf(ctx), req.CampaignId); err != nil {
		return nil, err
	}
	return ictcoreapi.StopCampaign200JSONResponse(true), nil
}

func (h *Handler) scheduleCampaign(ctx context.Context, id int64, action string, in *ictcoreapi.ScheduleInput) (ictcoreapi.ScheduleCreatedAnswerJSONResponse, error) {
	d, err := h.dialerOrBusy()
	if err != nil {
		return ictcoreapi.ScheduleCreatedAnswerJSONResponse{}, err
	}
	sid, err := d.Schedule(ctx, ownerOf(ctx), id, action, h.whenOf(in))
	if err != nil {
		return ictcoreapi.ScheduleCreatedAnswerJSONResponse{}, err
	}
	return ictcoreapi.ScheduleCreatedAnswerJSONResponse(idAnswer[ictcoreapi.ScheduleCreated](h.bareIDs, "schedule_id", sid)), nil
}

// ScheduleCampaignStart (POST /campaigns/{campaign_id}/start/schedule).
func (h *Handler) ScheduleCampaignStart(ctx context.Context, req ictcoreapi.ScheduleCampaignStartRequestObject) (ictcoreapi.ScheduleCampaignStartResponseObject, error) {
	out, err := h.scheduleCampaign(ctx, req.CampaignId, "start", req.Body)
	return ictcoreapi.ScheduleCampaignStart200JSONResponse{ScheduleCreatedAnswerJSONResponse: out}, err
}

// ScheduleCampaignStop (POST /campaigns/{campaign_id}/stop/schedule).
func (h *Handler) ScheduleCampaignStop(ctx context.Context, req ictcoreapi.ScheduleCampaignStopRequestObject) (ictcoreapi.ScheduleCampaignStopResponseObject, error) {
	out, err := h.scheduleCampaign(ctx, req.CampaignId, "stop", req.Body)
	return ictcoreapi.ScheduleCampaignStop200JSONResponse{ScheduleCreatedAnswerJSONResponse: out}, err
}

func (h *Handler) unscheduleCampaign(ctx context.Context, id int64) error {
	d, err := h.dialerOrBusy()
	if err != nil {
		return err
	}
	return d.Unschedule(ctx, ownerOf(ctx), id)
}

// CancelCampaignSchedule (DELETE /campaigns/{campaign_id}/schedule; GET is routed here too).
func (h *Handler) CancelCampaignSchedule(ctx context.Context, req ictcoreapi.CancelCampaignScheduleRequestObject) (ictcoreapi.CancelCampaignScheduleResponseObject, error) {
	if err := h.unscheduleCampaign(ctx, req.CampaignId); err != nil {
		return nil, err
	}
	return ictcoreapi.CancelCampaignSchedule200JSONResponse(true), nil
}

// CancelCampaignScheduleByPost (POST /campaigns/{campaign_id}/schedule), the method the guide shows.
func (h *Handler) CancelCampaignScheduleByPost(ctx context.Context, req ictcoreapi.CancelCampaignScheduleByPostRequestObject) (ictcoreapi.CancelCampaignScheduleByPostResponseObject, error) {
	if err := h.unscheduleCampaign(ctx, req.CampaignId); err != nil {
		return nil, err
	}
	return ictcoreapi.CancelCampaignScheduleByPost200JSONResponse(true), nil
}
