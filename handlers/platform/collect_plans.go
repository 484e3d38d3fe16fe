package platform

import (
	"context"

	"switchboard/convert"
	"switchboard/gen/platformapi"
	"switchboard/models/collect"
	"switchboard/server"
)

// CreateCollectPlan (POST /collect-databases/{database_id}/plans) defines a contact plan of the database.
func (h *Handler) CreateCollectPlan(ctx context.Context, req platformapi.CreateCollectPlanRequestObject) (platformapi.CreateCollectPlanResponseObject, error) {
	b := req.Body
	in := collect.PlanInput{Code: b.Code, Description: convert.Deref(b.Description), NeedsSocket: b.NeedsSocket != nil && *b.NeedsSocket}
	for _, r := range b.Records {
		in.Records = append(in.Records, string(r))
	}
	for _, s := range b.Steps {
		in.Steps = append(in.Steps, collect.Step{Type: string(s.Type), Field: convert.Deref(s.Field), Value: convert.Deref(s.Value),
			Message: convert.Deref(s.Message), Buttons: derefSlice(s.Buttons), FormID: convert.Deref(s.Formid), Fields: derefSlice(s.Fields),
			Values: derefSlice(s.Values), Cancel: derefSlice(s.Cancel)})
	}
	p, err := collect.CreatePlan(ctx, h.db, collect.Scope{DatabaseID: req.DatabaseId}, in)
	if err != nil {
		return nil, err
	}
	return platformapi.CreateCollectPlan201JSONResponse(toCollectPlan(p)), nil
}

// ListCollectPlans (GET /collect-databases/{database_id}/plans): a database that does not exist is a 404.
func (h *Handler) ListCollectPlans(ctx context.Context, req platformapi.ListCollectPlansRequestObject) (platformapi.ListCollectPlansResponseObject, error) {
	s, err := h.scopeOf(ctx, req.DatabaseId)
	if err != nil {
		return nil, err
	}
	page, err := collect.ListPlans(ctx, h.db, s, window(req.Params.Limit, req.Params.After))
	if err != nil {
		return nil, err
	}
	return platformapi.ListCollectPlans200JSONResponse{Body: convert.Each(page.Items, toCollectPlan),
		Headers: platformapi.ListCollectPlans200ResponseHeaders{Link: server.PageLink(ctx, page, "after")}}, nil
}

// GetCollectPlan (GET /collect-databases/{database_id}/plans/{plan_id}).
func (h *Handler) GetCollectPlan(ctx context.Context, req platformapi.GetCollectPlanRequestObject) (platformapi.GetCollectPlanResponseObject, error) {
	s, err := h.scopeOf(ctx, req.DatabaseId)
	if err != nil {
		return nil, err
	}
	p, err := collect.GetPlan(ctx, h.db, s, req.PlanId)
	if err != nil {
		return nil, err
	}
	return platformapi.GetCollectPlan200JSONResponse(toCollectPlan(p)), nil
}

// DeleteCollectPlan (DELETE /collect-databases/{database_id}/plans/{plan_id}).
func (h *Handler) DeleteCollectPlan(ctx context.Context, req platformapi.DeleteCollectPlanRequestObject) (platformapi.DeleteCollectPlanResponseObject, error) {
	s, err := h.scopeOf(ctx, req.DatabaseId)
	if err != nil {
		return nil, err
	}
	if err := collect.DeletePlan(ctx, h.db, s, req.PlanId); err != nil {
		return nil, err
	}
	return platformapi.DeleteCollectPlan204Response{}, nil
}

// GetCollectPlanJob (GET /collect-databases/{database_id}/plan-jobs/{job_id}): one run of a plan.
func (h *Handler) GetCollectPlanJob(ctx context.Context, req platformapi.GetCollectPlanJobRequestObject) (platformapi.GetCollectPlanJobResponseObject, error) {
	s, err := h.scopeOf(ctx, req.DatabaseId)
	if err != nil {
		return nil, err
	}
	j, err := collect.GetJob(ctx, h.db, s, req.JobId)
	if err != nil {
		return nil, err
	}
	out := platformapi.CollectPlanJob{Jobid: j.ID, DatabaseId: j.DatabaseID, OperatorId: j.OperatorID, Plan: j.PlanCode,
		Record: j.Record, Rowid: j.RowID, Status: platformapi.CollectPlanJobStatus(j.Status), Reason: j.Reason,
		CreatedAt: unixTime(j.CreatedAt)}
	if j.WebsocketID != "" {
		out.WebsocketId = &j.WebsocketID
	}
	if j.FinishedAt != 0 {
		t := unixTime(j.FinishedAt)
		out.FinishedAt = &t
	}
	return platformapi.GetCollectPlanJob200JSONResponse(out), nil
}

func toCollectPlan(p *collect.Plan) platformapi.CollectPlan {
	out := platformapi.CollectPlan{Id: p.ID, DatabaseId: p.DatabaseID, Code: p.Code, Description: p.Description,
		Records: p.RecordTypes(), Steps: make([]platformapi.CollectPlanStep, len(p.Steps)), NeedsSocket: p.NeedsSocket,
		CreatedAt: unixTime(p.CreatedAt)}
	for i, s := range p.Steps {
		st := platformapi.CollectPlanStep{Type: platformapi.CollectPlanStepType(s.Type), Field: orNil(s.Field),
			Message: orNil(s.Message), Formid: orNil(s.FormID), Buttons: sliceOrNil(s.Buttons), Fields: sliceOrNil(s.Fields),
			Values: sliceOrNil(s.Values), Cancel: sliceOrNil(s.Cancel)}
		if s.Type == collect.StepSet {
			v := s.Value
			st.Value = &v
		}
		out.Steps[i] = st
	}
	return out
}

func derefSlice[T any](p *[]T) []T {
	if p == nil {
		return nil
	}
	return *p
}

func orNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func sliceOrNil[T any](s []T) *[]T {
	if len(s) == 0 {
		return nil
	}
	return &s
}
