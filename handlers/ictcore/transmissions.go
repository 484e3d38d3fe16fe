package ictcore

import (
	"context"

	"switchboard/auth"
	"switchboard/convert"
	"switchboard/cronspec"
	"switchboard/gen/ictcoreapi"
	"switchboard/models"
	"switchboard/models/ictcore"
	"switchboard/server"
)

// Transmissions, their attempts (spools) and the attempts' results, and the two program shortcuts that
// create a transmission. Send and retry only start an attempt (Sender); the job queue makes it. A user who
// is not an admin sees and changes only its own (ownerOf), and uses only its own programs, contacts and
// accounts. Scheduled sends fire through the schedules package (Sender.Schedule).

// Sender starts an attempt of a transmission and answers its spool id (delivery.Service).
type Sender interface {
	Send(ctx context.Context, o ictcore.Owner, transmissionID int64) (int64, error)
	// Schedule answers the new schedule's id; Unschedule cancels every schedule of the transmission.
	Schedule(ctx context.Context, o ictcore.Owner, transmissionID int64, w ictcore.When) (int64, error)
	Unschedule(ctx context.Context, o ictcore.Owner, transmissionID int64) error
}

// transmissionFields are the fields every transmission body shares (TransmissionInput and
// ProgramTransmissionInput).
type transmissionFields struct {
	title, origin, phone *string
	email                *string
	contactID, accountID *int64
	serviceFlag          *ictcoreapi.ServiceFlag
	direction            *ictcoreapi.TransmissionDirection
	tryAllowed           *int
}

func (f transmissionFields) draft(ctx context.Context, programID int64) ictcore.Draft {
	d := ictcore.Draft{ProgramID: programID, ContactID: f.contactID, Phone: convert.Deref(f.phone), Email: convert.Deref(f.email),
		AccountID: f.accountID, Title: f.title, Origin: f.origin, TryAllowed: convert.Deref(f.tryAllowed),
		UserID: auth.PrincipalFrom(ctx).UserID}
	if f.serviceFlag != nil {
		v := int(*f.serviceFlag)
		d.ServiceFlag = &v
	}
	if f.direction != nil {
		d.Direction = string(*f.direction)
	}
	return d
}

func fieldsOf(in *ictcoreapi.ProgramTransmissionInput) transmissionFields {
	f := transmissionFields{title: in.Title, origin: in.Origin, phone: in.Phone, contactID: in.ContactId,
		accountID: in.AccountId, serviceFlag: in.ServiceFlag, direction: in.Direction, tryAllowed: in.TryAllowed}
	if in.Email != nil {
		e := string(*in.Email)
		f.email = &e
	}
	return f
}

func (h *Handler) CreateTransmission(ctx context.Context, req ictcoreapi.CreateTransmissionRequestObject) (ictcoreapi.CreateTransmissionResponseObject, error) {
	in := req.Body
	f := transmissionFields{title: in.Title, origin: in.Origin, phone: in.Phone, contactID: in.ContactId,
		accountID: in.AccountId, serviceFlag: in.ServiceFlag, direction: in.Direction, tryAllowed: in.TryAllowed}
	if in.Email != nil {
		e := string(*in.Email)
		f.email = &e
	}
	t, err := ictcore.CreateTransmission(ctx, h.db, ownerOf(ctx), f.draft(ctx, in.ProgramId))
	if err != nil {
		return nil, err
	}
	return ictcoreapi.CreateTransmission200JSONResponse(idAnswer[ictcoreapi.TransmissionCreated](h.bareIDs, "transmission_id", t.ID)), nil
}

// PutProgramTransmission is the guide's shortcut: a transmission with program {program_id}.
func (h *Handler) PutProgramTransmission(ctx context.Context, req ictcoreapi.PutProgramTransmissionRequestObject) (ictcoreapi.PutProgramTransmissionResponseObject, error) {
	in := req.Body
	if in.ProgramId != nil && *in.ProgramId != req.ProgramId {
		return nil, models.Errorf(models.Invalid, "program_id %d in the body is not the path's %d", *in.ProgramId, req.ProgramId)
	}
	t, err := ictcore.CreateTransmission(ctx, h.db, ownerOf(ctx), fieldsOf(in).draft(ctx, req.ProgramId))
	if err != nil {
		return nil, err
	}
	return ictcoreapi.PutProgramTransmission200JSONResponse(idAnswer[ictcoreapi.TransmissionCreated](h.bareIDs, "transmission_id", t.ID)), nil
}

// CreateProgramTransmission is the reference code's shortcut: a new program like {program_id} (edited by
// program_data) and a transmission with it, in one transaction.
func (h *Handler) CreateProgramTransmission(ctx context.Context, req ictcoreapi.CreateProgramTransmissionRequestObject) (ictcoreapi.CreateProgramTransmissionResponseObject, error) {
	in := req.Body
	// A missing transmission_data fails validation first (412); program_id inside it is ignored (the
	// contract): the new program is the one.
	t, err := ictcore.CreateWithProgram(ctx, h.db, ownerOf(ctx), req.ProgramId, func(p *ictcore.Program) error {
		return applyProgramData(p, in.ProgramData)
	}, fieldsOf(&in.TransmissionData).draft(ctx, 0))
	if err != nil {
		return nil, err
	}
	return ictcoreapi.CreateProgramTransmission200JSONResponse(idAnswer[ictcoreapi.TransmissionCreated](h.bareIDs, "transmission_id", t.ID)), nil
}

// applyProgramData sets the parameters program_data gives on p, a copy of the base program; a parameter
// of another program type is refused.
func applyProgramData(p *ictcore.Program, in *ictcoreapi.ProgramDataInput) error {
	if in == nil {
		return nil
	}
	set(&p.Name, in.Name)
	if in.ParentId != nil {
		p.ParentID = in.ParentId
	}
	if in.AccountId != nil {
		p.AccountID = in.AccountId
	}
	for _, param := range []struct {
		name, typ string
		given     bool
		apply     func()
	}{
		{"document_id", "sendfax", in.DocumentId != nil, func() { p.DocumentID = in.DocumentId }},
		{"template_id", "sendemail", in.TemplateId != nil, func() { p.TemplateID = in.TemplateId }},
		{"text_id", "sendsms", in.TextId != nil, func() { p.TextID = in.TextId }},
		{"recording_id", "voicemessage", in.RecordingId != nil, func() { p.RecordingID = in.RecordingId }},
		{"text", "voicetts", in.Text != nil, func() { p.Text = *in.Text }},
		{"delay", "voicetts", in.Delay != nil, func() { p.Delay = *in.Delay }},
	} {
		if !param.given {
			continue
		}
		if param.typ != p.Type {
			return models.Errorf(models.Invalid, "program_data: %s is not a parameter of a %s program", param.name, p.Type)
		}
		param.apply()
	}
	return nil
}

func (h *Handler) ListProgramTransmissions(ctx context.Context, req ictcoreapi.ListProgramTransmissionsRequestObject) (ictcoreapi.ListProgramTransmissionsResponseObject, error) {
	o := ownerOf(ctx)
	if _, err := ictcore.GetProgram(ctx, h.db, o, req.ProgramId); err != nil {
		return nil, err
	}
	p := req.Params
	f := ictcore.TransmissionFilter{ProgramID: &req.ProgramId, Status: p.Status, ListQuery: listQuery(p.Limit, p.Offset, nil, p.Count)}
	if p.Direction != nil {
		d := string(*p.Direction)
		f.Direction = &d
	}
	page, err := ictcore.ListTransmissions(ctx, h.db, o, f)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.ListProgramTransmissions200JSONResponse{Body: toAPITransmissions(page.Items),
		Headers: ictcoreapi.ListProgramTransmissions200ResponseHeaders{XTotalCount: page.Total, Link: server.PageLink(ctx, page, "")}}, nil
}

func (h *Handler) ListTransmissions(ctx context.Context, req ictcoreapi.ListTransmissionsRequestObject) (ictcoreapi.ListTransmissionsResponseObject, error) {
	p := req.Params
	f := ictcore.TransmissionFilter{ID: p.TransmissionId, ProgramID: p.ProgramId, AccountID: p.AccountId,
		ContactID: p.ContactId, CampaignID: p.CampaignId, UserID: firstSet(p.UserId, p.CreatedBy),
		Before: p.Before, After: p.After, ServiceFlag: p.ServiceFlag, Title: p.Title, Origin: p.Origin,
		Status: p.Status, Response: p.Response, Phone: p.Phone, Email: p.Email, AccountPhone: p.AccountPhone,
		AccountEmail: p.AccountEmail, ContactPhone: p.ContactPhone, ContactEmail: p.ContactEmail,
		ListQuery: listQuery(p.Limit, p.Offset, nil, p.Count)}
	if p.Direction != nil {
		d := string(*p.Direction)
		f.Direction = &d
	}
	page, err := ictcore.ListTransmissions(ctx, h.db, ownerOf(ctx), f)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.ListTransmissions200JSONResponse{Body: toAPITransmissions(page.Items),
		Headers: ictcoreapi.ListTransmissions200ResponseHeaders{XTotalCount: page.Total, Link: server.PageLink(ctx, page, "")}}, nil
}

func (h *Handler) GetTransmission(ctx context.Context, req ictcoreapi.GetTransmissionRequestObject) (ictcoreapi.GetTransmissionResponseObject, error) {
	t, err := ictcore.GetTransmission(ctx, h.db, ownerOf(ctx), req.TransmissionId)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.GetTransmission200JSONResponse(toAPITransmission(t)), nil
}

func (h *Handler) DeleteTransmission(ctx context.Context, req ictcoreapi.DeleteTransmissionRequestObject) (ictcoreapi.DeleteTransmissionResponseObject, error) {
	if err := ictcore.DeleteTransmission(ctx, h.db, ownerOf(ctx), req.TransmissionId); err != nil {
		return nil, err
	}
	return ictcoreapi.DeleteTransmission200JSONResponse(true), nil
}

func (h *Handler) SendTransmission(ctx context.Context, req ictcoreapi.SendTransmissionRequestObject) (ictcoreapi.SendTransmissionResponseObject, error) {
	id, err := h.send(ctx, req.TransmissionId)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.SendTransmission200JSONResponse{SpoolCreatedAnswerJSONResponse: ictcoreapi.SpoolCreatedAnswerJSONResponse(idAnswer[ictcoreapi.SpoolCreated](h.bareIDs, "spool_id", id))}, nil
}

// RetryTransmission is send by another name (the contract: same checks, same answer).
func (h *Handler) RetryTransmission(ctx context.Context, req ictcoreapi.RetryTransmissionRequestObject) (ictcoreapi.RetryTransmissionResponseObject, error) {
	id, err := h.send(ctx, req.TransmissionId)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.RetryTransmission200JSONResponse{SpoolCreatedAnswerJSONResponse: ictcoreapi.SpoolCreatedAnswerJSONResponse(idAnswer[ictcoreapi.SpoolCreated](h.bareIDs, "spool_id", id))}, nil
}

func (h *Handler) send(ctx context.Context, id int64) (int64, error) {
	if h.sender == nil {
		return 0, errNoDelivery
	}
	return h.sender.Send(ctx, ownerOf(ctx), id)
}

var errNoDelivery = models.Errorf(models.Busy, "delivery is not running")

func (h *Handler) ScheduleTransmission(ctx context.Context, req ictcoreapi.ScheduleTransmissionRequestObject) (ictcoreapi.ScheduleTransmissionResponseObject, error) {
	if h.sender == nil {
		return nil, errNoDelivery
	}
	id, err := h.sender.Schedule(ctx, ownerOf(ctx), req.TransmissionId, h.whenOf(req.Body))
	if err != nil {
		return nil, err
	}
	return ictcoreapi.ScheduleTransmission200JSONResponse{ScheduleCreatedAnswerJSONResponse: ictcoreapi.ScheduleCreatedAnswerJSONResponse(idAnswer[ictcoreapi.ScheduleCreated](h.bareIDs, "schedule_id", id))}, nil
}

func (h *Handler) CancelTransmissionSchedule(ctx context.Context, req ictcoreapi.CancelTransmissionScheduleRequestObject) (ictcoreapi.CancelTransmissionScheduleResponseObject, error) {
	if h.sender == nil {
		return nil, errNoDelivery
	}
	if err := h.sender.Unschedule(ctx, ownerOf(ctx), req.TransmissionId); err != nil {
		return nil, err
	}
	return ictcoreapi.CancelTransmissionSchedule200JSONResponse(true), nil
}

// whenOf reads a ScheduleInput, its cron-like fields in the server's schedule zone; no body is the empty
// schedule (at once, review R5).
func (h *Handler) whenOf(in *ictcoreapi.ScheduleInput) ictcore.When {
	if in == nil {
		return ictcore.When{Zone: h.zone}
	}
	return ictcore.When{Zone: h.zone,
		Fields: cronspec.Fields{Year: convert.Deref(in.Year), Month: convert.Deref(in.Month), Day: convert.Deref(in.Day), Weekday: convert.Deref(in.Weekday),
			Hour: convert.Deref(in.Hour), Minute: convert.Deref(in.Minute)},
		Delay: in.Delay, Timestamp: in.Timestamp, Datetime: in.Datetime,
		Recurring: in.IsRecurring != nil && *in.IsRecurring == ictcoreapi.ScheduleInputIsRecurringN1,
	}
}

func (h *Handler) CloneTransmission(ctx context.Context, req ictcoreapi.CloneTransmissionRequestObject) (ictcoreapi.CloneTransmissionResponseObject, error) {
	t, err := ictcore.CloneTransmission(ctx, h.db, ownerOf(ctx), req.TransmissionId)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.CloneTransmission200JSONResponse(idAnswer[ictcoreapi.TransmissionCreated](h.bareIDs, "transmission_id", t.ID)), nil
}

func (h *Handler) GetTransmissionStatus(ctx context.Context, req ictcoreapi.GetTransmissionStatusRequestObject) (ictcoreapi.GetTransmissionStatusResponseObject, error) {
	t, err := ictcore.GetTransmission(ctx, h.db, ownerOf(ctx), req.TransmissionId)
	if err != nil {
		return nil, err
	}
	status, detail := transmissionStatus(t.Status)
	return ictcoreapi.GetTransmissionStatus200JSONResponse{Status: status, StatusDetail: &detail}, nil
}

func (h *Handler) ListTransmissionSpools(ctx context.Context, req ictcoreapi.ListTransmissionSpoolsRequestObject) (ictcoreapi.ListTransmissionSpoolsResponseObject, error) {
	p := req.Params
	f := ictcore.SpoolFilter{ID: p.SpoolId, AccountID: p.AccountId, ServiceFlag: p.ServiceFlag, Response: p.Response,
		ListQuery: listQuery(p.Limit, p.Offset, nil, p.Count)}
	if p.Status != nil {
		s := string(*p.Status)
		f.Status = &s
	}
	page, err := ictcore.ListSpools(ctx, h.db, ownerOf(ctx), req.TransmissionId, f)
	if err != nil {
		return nil, err
	}
	out := convert.Each(page.Items, toAPISpool)
	return ictcoreapi.ListTransmissionSpools200JSONResponse{Body: out,
		Headers: ictcoreapi.ListTransmissionSpools200ResponseHeaders{XTotalCount: page.Total, Link: server.PageLink(ctx, page, "")}}, nil
}

func (h *Handler) ListTransmissionResults(ctx context.Context, req ictcoreapi.ListTransmissionResultsRequestObject) (ictcoreapi.ListTransmissionResultsResponseObject, error) {
	p := req.Params
	page, err := ictcore.ListLastResults(ctx, h.db, ownerOf(ctx), req.TransmissionId, ictcore.ResultFilter{ID: p.SpoolResultId,
		ApplicationID: p.ApplicationId, Type: p.Type, Name: p.Name, Data: p.Data, ListQuery: listQuery(p.Limit, p.Offset, nil, p.Count)})
	if err != nil {
		return nil, err
	}
	return ictcoreapi.ListTransmissionResults200JSONResponse{SpoolResultListJSONResponse: resultList(ctx, page)}, nil
}

func (h *Handler) GetSpoolStatus(ctx context.Context, req ictcoreapi.GetSpoolStatusRequestObject) (ictcoreapi.GetSpoolStatusResponseObject, error) {
	s, err := ictcore.GetSpool(ctx, h.db, ownerOf(ctx), req.SpoolId)
	if err != nil {
		return nil, err
	}
	status, detail := spoolStatus(s.Status)
	return ictcoreapi.GetSpoolStatus200JSONResponse{Status: status, StatusDetail: &detail}, nil
}

func (h *Handler) ListSpoolResults(ctx context.Context, req ictcoreapi.ListSpoolResultsRequestObject) (ictcoreapi.ListSpoolResultsResponseObject, error) {
	p := req.Params
	page, err := ictcore.ListSpoolResults(ctx, h.db, ownerOf(ctx), req.SpoolId, ictcore.ResultFilter{ID: p.SpoolResultId,
		ApplicationID: p.ApplicationId, Type: p.Type, Name: p.Name, Data: p.Data, ListQuery: listQuery(p.Limit, p.Offset, nil, p.Count)})
	if err != nil {
		return nil, err
	}
	return ictcoreapi.ListSpoolResults200JSONResponse{SpoolResultListJSONResponse: resultList(ctx, page)}, nil
}

func resultList(ctx context.Context, page models.PageOf[ictcore.SpoolResult]) ictcoreapi.SpoolResultListJSONResponse {
	out := make([]ictcoreapi.SpoolResult, len(page.Items))
	for i := range page.Items {
		r := &page.Items[i]
		out[i] = ictcoreapi.SpoolResult{SpoolResultId: r.ID, SpoolId: r.SpoolID, ApplicationId: r.ApplicationID,
			Type: r.Type, Name: r.Name, Data: r.Data, DateCreated: &r.DateCreated, UserId: r.UserID}
	}
	return ictcoreapi.SpoolResultListJSONResponse{Body: out,
		Headers: ictcoreapi.SpoolResultListResponseHeaders{XTotalCount: page.Total, Link: server.PageLink(ctx, page, "")}}
}

func toAPITransmission(t *ictcore.Transmission) ictcoreapi.Transmission {
	status, detail := transmissionStatus(t.Status)
	return ictcoreapi.Transmission{TransmissionId: t.ID, Title: t.Title, ServiceFlag: ictcoreapi.ServiceFlag(t.ServiceFlag),
		ProgramId: t.ProgramID, AccountId: convert.Deref(t.AccountID), ContactId: t.ContactID, Origin: t.Origin,
		Direction: ictcoreapi.TransmissionDirection(t.Direction), Status: status, StatusDetail: &detail,
		Response: t.Response, TryAllowed: t.TryAllowed, TryDone: t.TryDone, LastRun: t.LastRun, CampaignId: t.CampaignID,
		UserId: t.UserID}
}

func toAPITransmissions(ts []ictcore.Transmission) []ictcoreapi.Transmission {
	out := make([]ictcoreapi.Transmission, len(ts))
	for i := range ts {
		out[i] = toAPITransmission(&ts[i])
	}
	return out
}

func toAPISpool(s *ictcore.Spool) ictcoreapi.Spool {
	sf := ictcoreapi.ServiceFlag(s.ServiceFlag)
	status, detail := spoolStatus(s.Status)
	return ictcoreapi.Spool{SpoolId: s.ID, TimeSpool: s.TimeSpool, TimeStart: s.TimeStart, TimeConnect: s.TimeConnect,
		TimeEnd: s.TimeEnd, Status: status, StatusDetail: &detail, Response: s.Response, ServiceFlag: &sf,
		AccountId: s.AccountID, TransmissionId: s.TransmissionID, UserId: s.UserID}
}

// transmissionStatus answers a stored status as the guide's five (review R24) and as Switchboard's finer
// state: waiting for an automatic retry is pending.
func transmissionStatus(stored string) (ictcoreapi.TransmissionStatus, ictcoreapi.TransmissionState) {
	if stored == ictcore.StatusPendingRetry {
		return ictcoreapi.TransmissionStatusPending, ictcoreapi.TransmissionState(stored)
	}
	return ictcoreapi.TransmissionStatus(stored), ictcoreapi.TransmissionState(stored)
}

// spoolStatus answers a stored spool status as the guide's three (review R24) and as the finer state:
// queued and started are initiated, invalid is failed.
func spoolStatus(stored string) (ictcoreapi.SpoolStatus, ictcoreapi.SpoolState) {
	switch stored {
	case ictcore.SpoolQueued, ictcore.SpoolStarted:
		return ictcoreapi.SpoolStatusInitiated, ictcoreapi.SpoolState(stored)
	case ictcore.SpoolInvalid:
		return ictcoreapi.SpoolStatusFailed, ictcoreapi.SpoolState(stored)
	}
	return ictcoreapi.SpoolStatus(stored), ictcoreapi.SpoolState(stored)
}
